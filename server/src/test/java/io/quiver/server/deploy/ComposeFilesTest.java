package io.quiver.server.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks of deploy/compose and deploy/observability with the real tools ({@code docker-compose
 * config}, {@code promtool}) and the rules below. The running proof of the settings is
 * {@link ComposeTopologyIT}.
 */
class ComposeFilesTest {
  private static final String COMPOSE = "deploy/compose/docker-compose.yml";
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @Test
  void dockerComposeAcceptsTheStackWithAndWithoutTheGrafanaProfile() {
    DeployFiles.requireTool("docker-compose", "apt-get install docker-compose; .ci/run does it");
    DeployFiles.Run plain = DeployFiles.run("docker-compose", "-f", COMPOSE, "config", "-q");
    assertThat(plain.exit()).as(plain.output()).isZero();
    DeployFiles.Run grafana = DeployFiles.run("docker-compose", "-f", COMPOSE, "--profile", "grafana", "config", "-q");
    assertThat(grafana.exit()).as(grafana.output()).isZero();
  }

  /** ComposeTopologyIT starts processes from ComposeFile's reading: it must be Compose's own. */
  @Test
  void readsTheSameEnvironmentAsDockerCompose() throws IOException {
    DeployFiles.requireTool("docker-compose", "apt-get install docker-compose; .ci/run does it");
    DeployFiles.Run config = DeployFiles.run("docker-compose", "-f", COMPOSE, "config");
    assertThat(config.exit()).as(config.output()).isZero();
    JsonNode resolved = YAML.readTree(config.output().substring(config.output().indexOf("services:")));
    ComposeFile ours = ComposeFile.load(DeployFiles.path(COMPOSE));
    for (ComposeFile.Service s : ours.quiverServices()) {
      Map<String, String> theirs = new HashMap<>();
      resolved.get("services").get(s.name()).get("environment").fields()
          .forEachRemaining(e -> theirs.put(e.getKey(), e.getValue().asText()));
      assertThat(s.environment()).as(s.name()).isEqualTo(theirs);
    }
  }

  /** Every KEY=VALUE line of every env file has a comment line right above it, and no quotes. */
  @Test
  void everySettingInAnEnvFileHasACommentAndNoQuotes() throws IOException {
    List<Path> envFiles = new ArrayList<>();
    for (String dir : List.of("deploy/compose", "deploy/k8s")) {
      try (Stream<Path> files = Files.walk(DeployFiles.path(dir))) {
        files.filter(p -> p.getFileName().toString().endsWith(".env")).forEach(envFiles::add);
      }
    }
    assertThat(envFiles).hasSizeGreaterThanOrEqualTo(5);
    for (Path f : envFiles) {
      List<String> lines = Files.readAllLines(f);
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i).strip();
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        assertThat(i > 0 && lines.get(i - 1).strip().startsWith("#")).as(f + ":" + (i + 1) + " has a comment above: " + line).isTrue();
        assertThat(line).as(f + ":" + (i + 1) + " (Compose keeps quotes in values)").doesNotContain("\"", "'");
      }
    }
  }

  @Test
  void usesOnlyDocumentedSettings() {
    Set<String> documented = DeployFiles.documentedSettings();
    for (ComposeFile.Service s : ComposeFile.load(DeployFiles.path(COMPOSE)).quiverServices()) {
      for (String name : s.environment().keySet()) {
        assertThat(documented).as(s.name() + " sets " + name + ": not in README.md's configuration table, the launcher's options or API.md §1")
            .contains(name);
      }
    }
  }

  /**
   * One gateway and three shards; each shard has a stable id, its own host name, its own named
   * volume at its data directory and advertises its host name; the Hazelcast members list names
   * every Quiver service at its cluster port; the gateway waits for healthy shards.
   */
  @Test
  void describesOneGatewayAndThreeShardsWithStableIdsAndOwnVolumes() throws IOException {
    ComposeFile compose = ComposeFile.load(DeployFiles.path(COMPOSE));
    JsonNode raw = YAML.readTree(DeployFiles.path(COMPOSE).toFile());
    List<ComposeFile.Service> shards = compose.quiverServices().stream().filter(s -> s.role().equals("shard")).toList();
    List<ComposeFile.Service> gateways = compose.quiverServices().stream().filter(s -> s.role().equals("gateway")).toList();
    assertThat(shards).hasSize(3);
    assertThat(gateways).hasSize(1);

    Set<String> ids = new HashSet<>();
    Set<String> volumes = new HashSet<>();
    for (ComposeFile.Service s : shards) {
      Map<String, String> env = s.environment();
      assertThat(env).containsKey("QUIVER_SHARD_ID");
      ids.add(env.get("QUIVER_SHARD_ID"));
      assertThat(env.get("QUIVER_SHARD_ADVERTISED_HOST")).as(s.name()).isEqualTo(s.hostname());
      assertThat(env.get("QUIVER_CLUSTER_PUBLIC_HOST")).as(s.name()).isEqualTo(s.hostname());
      List<String> mounts = new ArrayList<>();
      raw.get("services").get(s.name()).get("volumes").forEach(v -> mounts.add(v.asText()));
      String dataMount = mounts.stream().filter(m -> m.endsWith(":" + env.get("QUIVER_DATA_DIR"))).findFirst()
          .orElseThrow(() -> new AssertionError(s.name() + " mounts nothing at QUIVER_DATA_DIR " + env.get("QUIVER_DATA_DIR")));
      String volume = dataMount.substring(0, dataMount.indexOf(':'));
      assertThat(raw.get("volumes").has(volume)).as(s.name() + ": " + volume + " is a named volume").isTrue();
      volumes.add(volume);
    }
    assertThat(ids).containsExactlyInAnyOrder("0", "1", "2");
    assertThat(volumes).hasSize(3);

    for (ComposeFile.Service s : compose.quiverServices()) {
      String port = s.environment().getOrDefault("QUIVER_CLUSTER_PORT", "5701");
      for (ComposeFile.Service other : compose.quiverServices()) {
        assertThat(other.environment().get("QUIVER_CLUSTER_MEMBERS")).as(other.name() + " lists " + s.name())
            .contains(s.hostname() + ":" + port);
      }
    }
    JsonNode dependsOn = raw.get("services").get(gateways.get(0).name()).get("depends_on");
    for (ComposeFile.Service s : shards) {
      assertThat(dependsOn.get(s.name()).get("condition").asText()).isEqualTo("service_healthy");
    }
  }

  /** The memory sizing rule of docs/KUBERNETES.md, with mem_limit as the container limit. */
  @Test
  void memoryLimitsFollowTheSizingRule() throws IOException {
    JsonNode raw = YAML.readTree(DeployFiles.path(COMPOSE).toFile());
    for (ComposeFile.Service s : ComposeFile.load(DeployFiles.path(COMPOSE)).quiverServices()) {
      assertThat(s.environment()).as(s.name() + " sets QUIVER_HEAP").containsKey("QUIVER_HEAP");
      long heap = KubernetesManifestsTest.jvmBytes(s.environment().get("QUIVER_HEAP"));
      JsonNode limit = raw.get("services").get(s.name()).get("mem_limit");
      assertThat(limit).as(s.name() + " mem_limit").isNotNull();
      assertThat(KubernetesManifestsTest.jvmBytes(limit.asText())).as(s.name() + ": mem_limit >= heap + 512m")
          .isGreaterThanOrEqualTo(heap + 512L * 1024 * 1024);
      if (s.role().equals("shard")) {
        long budgetMb = Long.parseLong(s.environment().getOrDefault("QUIVER_MEMORY_BUDGET_MB", "1024"));
        assertThat(heap).as(s.name() + ": heap >= 1.1 x (1.25 x budget + 256m)")
            .isGreaterThanOrEqualTo(KubernetesManifestsTest.minShardHeap(budgetMb));
      }
    }
  }

  /** Prometheus scrapes /metrics/prometheus on the gateway's REST port and every shard's HTTP port. */
  @Test
  void prometheusScrapesEveryQuiverProcessAndLoadsTheAlertRules() throws IOException {
    ComposeFile compose = ComposeFile.load(DeployFiles.path(COMPOSE));
    JsonNode prometheus = YAML.readTree(DeployFiles.path("deploy/compose/prometheus.yml").toFile());
    Set<String> targets = new HashSet<>();
    for (JsonNode job : prometheus.get("scrape_configs")) {
      assertThat(job.get("metrics_path").asText()).isEqualTo("/metrics/prometheus");
      job.get("static_configs").forEach(sc -> sc.get("targets").forEach(t -> targets.add(t.asText())));
    }
    for (ComposeFile.Service s : compose.quiverServices()) {
      String port = s.role().equals("shard") ? s.environment().getOrDefault("QUIVER_SHARD_HTTP_PORT", "9200")
          : s.environment().getOrDefault("QUIVER_HTTP_PORT", "8080");
      assertThat(targets).contains(s.hostname() + ":" + port);
    }
    String rules = prometheus.get("rule_files").get(0).asText();
    JsonNode raw = YAML.readTree(DeployFiles.path(COMPOSE).toFile());
    List<String> mounts = new ArrayList<>();
    raw.get("services").get("prometheus").get("volumes").forEach(v -> mounts.add(v.asText()));
    assertThat(mounts).contains("../observability/alerts.yml:" + rules + ":ro");
  }

  @Test
  void promtoolAcceptsTheRulesAndTheConfig(@TempDir Path tmp) throws IOException {
    DeployFiles.requireTool("promtool", "apt-get install prometheus");
    DeployFiles.Run rules = DeployFiles.run("promtool", "check", "rules", "deploy/observability/alerts.yml");
    assertThat(rules.exit()).as(rules.output()).isZero();
    // The config names the rules at their path inside the container; point it at the repository's file.
    String config = DeployFiles.read("deploy/compose/prometheus.yml")
        .replace("/etc/prometheus/rules/alerts.yml", DeployFiles.path("deploy/observability/alerts.yml").toString());
    Path copy = tmp.resolve("prometheus.yml");
    Files.writeString(copy, config);
    DeployFiles.Run check = DeployFiles.run("promtool", "check", "config", copy.toString());
    assertThat(check.exit()).as(check.output()).isZero();
  }
}
