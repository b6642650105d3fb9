package io.quiver.server.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the container image's launcher (the Dockerfile heredoc) outside Docker, against the jar the
 * package phase built, with this JVM's Java: it must start the jar with its flags and heap.
 */
class ImageLauncherIT {
  private static final Path JAR = DeployFiles.path("server/target/quiver.jar");

  @TempDir Path tmp;

  @Test
  void startsTheJarWithBinQuiversFlagsAndTheConfiguredHeap() throws Exception {
    assertThat(Files.isRegularFile(JAR)).as(JAR + " (built by the package phase)").isTrue();
    Path launcher = DeployFiles.writeImageLauncher(tmp);
    ProcessBuilder pb = new ProcessBuilder(List.of(launcher.toString(), "shard", "--help")).redirectErrorStream(true)
        .redirectOutput(tmp.resolve("out.log").toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("QUIVER_"));
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().put("QUIVER_JAR", JAR.toString());
    pb.environment().put("QUIVER_HEAP", "200m");
    pb.environment().put("QUIVER_JAVA_OPTS", "-XshowSettings:vm");
    Process p = pb.start();
    try {
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      String out = Files.readString(tmp.resolve("out.log"));
      assertThat(p.exitValue()).as(out).isZero();
      assertThat(out).contains("--shard-id", "QUIVER_SHARD_ID").contains("Max. Heap Size: 200.00M");
      assertThat(out).doesNotContain("Unknown module", "Unrecognized option");
    } finally {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
  }

  @Test
  void healthcheckFailsWhenNothingAnswers() throws Exception {
    Path launcher = DeployFiles.writeImageLauncher(tmp);
    ProcessBuilder pb = new ProcessBuilder(List.of(launcher.toString(), "healthcheck", "live")).redirectErrorStream(true)
        .redirectOutput(tmp.resolve("health.log").toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("QUIVER_"));
    pb.environment().put("QUIVER_SHARD_HTTP_PORT", Integer.toString(ComposeTopologyIT.freePort()));
    pb.environment().put("QUIVER_HTTP_PORT", Integer.toString(ComposeTopologyIT.freePort()));
    Process p = pb.start();
    try {
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(Files.readString(tmp.resolve("health.log"))).isEqualTo(1);
    } finally {
      p.destroyForcibly();
    }
  }
}
