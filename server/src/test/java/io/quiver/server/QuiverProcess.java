package io.quiver.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A child process started through {@code bin/quiver} the way a user starts it, for tests: waits for
 * its one-line ready message, and stops it with SIGTERM or SIGKILL. {@link #close()} kills whatever
 * is left, the process and its descendants. Not thread-safe.
 */
final class QuiverProcess implements AutoCloseable {
  static final Path LAUNCHER = Path.of("..", "bin", "quiver").toAbsolutePath().normalize();

  private final Process process;
  private final Path stderr;
  private final String readyLine;

  private QuiverProcess(Process process, Path stderr, String readyLine) {
    this.process = process;
    this.stderr = stderr;
    this.readyLine = readyLine;
  }

  /**
   * Starts {@code bin/quiver args...} with {@code env} added, its stderr going to {@code stderr}, and
   * waits up to {@code readySeconds} for a stdout line starting with {@code readyPrefix}.
   */
  static QuiverProcess start(List<String> args, Map<String, String> env, Path stderr, String readyPrefix, int readySeconds)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(LAUNCHER.toString());
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    pb.redirectError(ProcessBuilder.Redirect.appendTo(stderr.toFile()));
    Process p = pb.start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    // One reader thread per child (not the common pool: with 2 cores it has one thread, and a
    // child's endless drain would starve the next child's ready line). It keeps draining stdout
    // after the ready line so the child never blocks on a full pipe.
    CompletableFuture<String> ready = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try {
        for (String line; (line = out.readLine()) != null; ) {
          if (!ready.isDone() && line.startsWith(readyPrefix)) {
            ready.complete(line);
          }
        }
      } catch (IOException e) {
        // the process went away
      }
      ready.complete(null);
    }, "quiver-child-stdout");
    reader.setDaemon(true);
    reader.start();
    String line;
    try {
      line = ready.get(readySeconds, TimeUnit.SECONDS);
    } catch (Exception e) {
      line = null;
    }
    if (line == null) {
      kill(p);
      throw new IllegalStateException("no ready line from " + cmd + " within " + readySeconds + " s; stderr:\n"
          + tail(stderr));
    }
    return new QuiverProcess(p, stderr, line);
  }

  String readyLine() {
    return readyLine;
  }

  Process process() {
    return process;
  }

  /** SIGKILL the process and its descendants, and wait until they are gone. */
  void kill() {
    kill(process);
  }

  /** SIGTERM, then wait for a clean exit. Returns the exit code. */
  int stop(int seconds) throws InterruptedException {
    List<ProcessHandle> family = process.descendants().toList();
    process.destroy();
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      kill();
      throw new IllegalStateException("did not exit within " + seconds + " s of SIGTERM");
    }
    family.forEach(ProcessHandle::destroyForcibly);
    return process.exitValue();
  }

  private static void kill(Process p) {
    List<ProcessHandle> family = p.descendants().toList();
    p.destroyForcibly();
    family.forEach(ProcessHandle::destroyForcibly);
    try {
      p.waitFor(30, TimeUnit.SECONDS);
      for (ProcessHandle h : family) {
        h.onExit().get(30, TimeUnit.SECONDS);
      }
    } catch (Exception e) {
      throw new IllegalStateException("process did not die after SIGKILL", e);
    }
  }

  static String tail(Path file) {
    try {
      List<String> lines = Files.readAllLines(file);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no stderr: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      kill();
    }
  }
}
