package io.quiver.server.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * Shared helpers of the deploy/ checks: where the repository is, the external tools (docker-compose,
 * kubectl, promtool) and the documented {@code QUIVER_*} settings. Stateless.
 */
final class DeployFiles {
  /** Tests run in server/; the repository root is its parent. */
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  /**
   * Settings of API.md §1 the deployment files use before the launcher reads them (the gateway's
   * auth options are being added): they are part of the public contract, so they are allowed.
   */
  static final Set<String> API_MD_SETTINGS = Set.of("QUIVER_AUTH_MODE", "QUIVER_API_KEYS", "QUIVER_JWT_SECRET",
      "QUIVER_JWT_PUBLIC_KEY");

  private static final Pattern ENV_NAME = Pattern.compile("QUIVER_[A-Z0-9_]+");

  private DeployFiles() {}

  static Path path(String relative) {
    return ROOT.resolve(relative);
  }

  static String read(String relative) {
    try {
      return Files.readString(path(relative), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The settings a deployment may use: the README's configuration table, every {@code ${env:QUIVER_*}}
   * the launcher's options read (what {@code quiver ROLE --help} documents), and {@link #API_MD_SETTINGS}.
   */
  static Set<String> documentedSettings() {
    Set<String> names = new TreeSet<>(readmeTableSettings());
    try (Stream<Path> files = Files.walk(path("server/src/main/java"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        Matcher m = Pattern.compile("\\$\\{env:(QUIVER_[A-Z0-9_]+)").matcher(Files.readString(f));
        while (m.find()) {
          names.add(m.group(1));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    names.addAll(API_MD_SETTINGS);
    return names;
  }

  /** The env column of README.md's "Configuration" table. */
  static Set<String> readmeTableSettings() {
    String readme = read("README.md");
    int start = readme.indexOf("## Configuration");
    assertThat(start).as("README.md has a Configuration section").isNotNegative();
    int end = readme.indexOf("\n## ", start + 1);
    Set<String> names = new TreeSet<>();
    for (String line : readme.substring(start, end < 0 ? readme.length() : end).split("\n")) {
      if (line.startsWith("|")) {
        Matcher m = ENV_NAME.matcher(line);
        while (m.find()) {
          names.add(m.group());
        }
      }
    }
    assertThat(names).as("settings in README.md's configuration table").isNotEmpty();
    return names;
  }

  /** Skips the calling test, with the reason, when {@code binary} is not on the PATH. */
  static Path requireTool(String binary, String installHint) {
    Path found = which(binary);
    Assumptions.assumeTrue(found != null, binary + " is not installed, so this check is skipped (" + installHint + ")");
    return found;
  }

  static Path which(String binary) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, binary);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  /** Result of one external command. */
  record Run(int exit, String output) {}

  /** Runs a command in the repository root with stdout and stderr merged; fails after 120 s. */
  static Run run(String... command) {
    try {
      Path out = Files.createTempFile("quiver-deploy-", ".out");
      try {
        Process p = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true)
            .redirectOutput(out.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
          p.descendants().forEach(ProcessHandle::destroyForcibly);
          p.destroyForcibly();
          throw new AssertionError("timed out: " + String.join(" ", command));
        }
        return new Run(p.exitValue(), Files.readString(out));
      } finally {
        Files.deleteIfExists(out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * The shell words of a bash array assignment {@code NAME=(...)} in a script, e.g. bin/quiver's
   * {@code jvm_flags}; the array may span lines. Quotes are not expected and not interpreted.
   */
  static List<String> bashArray(String script, String name) {
    int start = script.indexOf(name + "=(");
    assertThat(start).as("array " + name + " in script").isNotNegative();
    int end = script.indexOf(')', start);
    String body = script.substring(start + name.length() + 2, end);
    return new ArrayList<>(Arrays.stream(body.trim().split("\\s+")).toList());
  }

  /** The image launcher: the heredoc the Dockerfile writes to /opt/quiver/bin/quiver. */
  static String imageLauncher() {
    String dockerfile = read("Dockerfile");
    String open = "<<'QUIVER_LAUNCHER' /opt/quiver/bin/quiver\n";
    int start = dockerfile.indexOf(open);
    assertThat(start).as("Dockerfile writes the launcher with a QUIVER_LAUNCHER heredoc").isNotNegative();
    int end = dockerfile.indexOf("\nQUIVER_LAUNCHER\n", start);
    assertThat(end).as("end of the launcher heredoc").isPositive();
    return dockerfile.substring(start + open.length(), end + 1);
  }

  /** Writes {@link #imageLauncher()} to an executable file in {@code dir}. */
  static Path writeImageLauncher(Path dir) throws IOException {
    Path launcher = dir.resolve("quiver");
    Files.writeString(launcher, imageLauncher());
    assertThat(launcher.toFile().setExecutable(true)).isTrue();
    return launcher;
  }
}
