package io.quiver.server.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks of the Dockerfile without a Docker engine: its launcher passes exactly bin/quiver's JVM
 * flags and is valid bash; the runtime stage is a JRE >= 21 running as a non-root user with a
 * health check and the API.md ports; the build stage runs the Maven build. {@link ImageLauncherIT}
 * runs the launcher against the built jar.
 */
class DockerfileTest {
  private final String dockerfile = DeployFiles.read("Dockerfile");

  @Test
  void launcherPassesTheSameJvmFlagsAsBinQuiver() {
    List<String> image = DeployFiles.bashArray(DeployFiles.imageLauncher(), "jvm_flags");
    List<String> launcher = DeployFiles.bashArray(DeployFiles.read("bin/quiver"), "jvm_flags");
    assertThat(image).isEqualTo(launcher);
    // And the JDK >= 24 addition and the OOM behaviour of bin/quiver.
    assertThat(DeployFiles.imageLauncher()).contains("--sun-misc-unsafe-memory-access=allow", "-XX:+ExitOnOutOfMemoryError");
  }

  @Test
  void launcherIsValidBash(@TempDir Path tmp) throws IOException {
    Path launcher = DeployFiles.writeImageLauncher(tmp);
    DeployFiles.Run check = DeployFiles.run("bash", "-n", launcher.toString());
    assertThat(check.exit()).as(check.output()).isZero();
  }

  @Test
  void buildsWithMavenOnAJdkAndRunsOnAJreOfAtLeast21() {
    Matcher version = Pattern.compile("(?m)^ARG JAVA_VERSION=(\\d+)$").matcher(dockerfile);
    assertThat(version.find()).as("ARG JAVA_VERSION").isTrue();
    assertThat(Integer.parseInt(version.group(1))).isGreaterThanOrEqualTo(21);
    assertThat(dockerfile).containsPattern("(?m)^FROM maven:3\\.9-eclipse-temurin-\\$\\{JAVA_VERSION\\} AS build$")
        .containsPattern("(?m)^FROM eclipse-temurin:\\$\\{JAVA_VERSION\\}-jre AS runtime$")
        .containsPattern("mvn .*package")
        .contains("server/target/quiver.jar");
  }

  @Test
  void runtimeRunsAsANonRootUserWithAHealthCheckAndTheApiPorts() {
    String runtime = dockerfile.substring(dockerfile.indexOf("AS runtime"));
    Matcher user = Pattern.compile("(?m)^USER (\\d+)(:\\d+)?$").matcher(runtime);
    assertThat(user.find()).as("a numeric USER (Kubernetes runAsNonRoot can only verify numbers)").isTrue();
    assertThat(Integer.parseInt(user.group(1))).isNotZero();
    assertThat(runtime).containsPattern("(?m)^HEALTHCHECK .*CMD \\[\"quiver\", \"healthcheck\", \"live\"\\]$");
    assertThat(runtime).containsPattern("(?m)^ENTRYPOINT \\[\"quiver\"\\]$");
    Matcher expose = Pattern.compile("(?m)^EXPOSE (.+)$").matcher(runtime);
    assertThat(expose.find()).isTrue();
    Set<String> ports = new HashSet<>(List.of(expose.group(1).trim().split("\\s+")));
    assertThat(ports).containsExactlyInAnyOrder("8080", "9090", "9100", "9200", "5701");
  }

  @Test
  void dockerignoreKeepsBuildOutputAndDataOutOfTheContext() {
    assertThat(DeployFiles.read(".dockerignore").lines().toList()).contains("**/target/", "data/", ".git/");
  }
}
