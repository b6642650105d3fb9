package io.quiver.loadtest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The shard processes the chaos scenario starts, kills and restarts itself. Shard {@code i} runs
 * {@code sh -c TEMPLATE} with every {@code {i}} in the template replaced by {@code i} and
 * {@code QUIVER_SHARD_ID=i} in its environment; its output goes to {@code <logDir>/shard-<i>.log}.
 * A kill is SIGKILL to the process and all its descendants (a crash, not a shutdown).
 *
 * <p>Thread-safe: every method is synchronized. {@link #close} stops everything and makes later
 * {@link #start} calls no-ops, so a restart timer that fires late cannot leave a process behind.
 */
public final class ShardProcesses implements AutoCloseable {

  private final String template;
  private final Process[] processes;
  private final Path logDir;
  private boolean closed;
  private int kills;
  private int starts;

  public ShardProcesses(String template, int count, Path logDir) throws IOException {
    if (template == null || template.isBlank()) {
      throw new IllegalArgumentException("--shard-cmd is required");
    }
    this.template = template;
    this.processes = new Process[count];
    this.logDir = Files.createDirectories(logDir);
  }

  public int count() {
    return processes.length;
  }

  /** Starts shard {@code i} unless it is running or this object is closed. */
  public synchronized void start(int i) throws IOException {
    if (closed || alive(i)) {
      return;
    }
    ProcessBuilder pb = new ProcessBuilder("sh", "-c", template.replace("{i}", Integer.toString(i)));
    pb.environment().put("QUIVER_SHARD_ID", Integer.toString(i));
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logDir.resolve("shard-" + i + ".log").toFile()));
    processes[i] = pb.start();
    starts++;
  }

  public synchronized void startAll() throws IOException {
    for (int i = 0; i < processes.length; i++) {
      start(i);
    }
  }

  /** SIGKILLs shard {@code i} and its descendants and waits for it to be gone. */
  public synchronized void kill(int i) throws InterruptedException {
    Process p = processes[i];
    if (p == null || !p.isAlive()) {
      return;
    }
    p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    p.waitFor(10, TimeUnit.SECONDS);
    kills++;
  }

  public synchronized boolean alive(int i) {
    return processes[i] != null && processes[i].isAlive();
  }

  public synchronized int kills() {
    return kills;
  }

  public synchronized int starts() {
    return starts;
  }

  /** Stops every shard: SIGTERM, then SIGKILL after five seconds. */
  @Override
  public synchronized void close() {
    closed = true;
    for (Process p : processes) {
      if (p != null && p.isAlive()) {
        p.toHandle().descendants().forEach(ProcessHandle::destroy);
        p.destroy();
      }
    }
    for (Process p : processes) {
      if (p == null) {
        continue;
      }
      try {
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
          p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
          p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
