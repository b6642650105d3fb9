package io.quiver.server.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * deploy/compose/docker-compose.yml read the way Compose reads it for what Quiver needs: each
 * service's command, host name and environment (its {@code env_file}s in order, then
 * {@code environment:}, later wins). Only the subset of Compose the stack uses: no anchors, no
 * variable interpolation in Quiver settings, no quotes in env files ({@link ComposeFilesTest}
 * checks that this reading agrees with {@code docker-compose config}). Immutable.
 */
record ComposeFile(Path file, Map<String, Service> services) {
  /** One Compose service. */
  record Service(String name, String hostname, List<String> command, Map<String, String> environment) {
    /** The Quiver role (shard, gateway, standalone) or null for another image (Prometheus, Grafana). */
    String role() {
      return command.isEmpty() ? null : switch (command.get(0)) {
        case "shard", "gateway", "standalone" -> command.get(0);
        default -> null;
      };
    }
  }

  static ComposeFile load(Path file) {
    try {
      JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
      Map<String, Service> services = new LinkedHashMap<>();
      root.get("services").fields().forEachRemaining(e -> services.put(e.getKey(), service(file.getParent(), e.getKey(), e.getValue())));
      return new ComposeFile(file, services);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Service service(Path dir, String name, JsonNode node) {
    List<String> command = new ArrayList<>();
    if (node.has("command")) {
      assertThat(node.get("command").isArray()).as(name + ": command is a list").isTrue();
      node.get("command").forEach(c -> command.add(c.asText()));
    }
    Map<String, String> env = new LinkedHashMap<>();
    if (node.has("env_file")) {
      for (JsonNode f : node.get("env_file")) {
        env.putAll(envFile(dir.resolve(f.asText())));
      }
    }
    if (node.has("environment")) {
      assertThat(node.get("environment").isObject()).as(name + ": environment is a map").isTrue();
      node.get("environment").fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
    }
    String hostname = node.has("hostname") ? node.get("hostname").asText() : name;
    return new Service(name, hostname, List.copyOf(command), Map.copyOf(env));
  }

  /** KEY=VALUE lines; blank lines and lines starting with # are skipped. */
  static Map<String, String> envFile(Path file) {
    try {
      Map<String, String> env = new LinkedHashMap<>();
      for (String line : Files.readAllLines(file)) {
        String t = line.strip();
        if (t.isEmpty() || t.startsWith("#")) {
          continue;
        }
        int eq = t.indexOf('=');
        assertThat(eq).as(file + ": not KEY=VALUE: " + line).isPositive();
        env.put(t.substring(0, eq), t.substring(eq + 1));
      }
      return env;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The services that run Quiver, in file order. */
  List<Service> quiverServices() {
    return services.values().stream().filter(s -> s.role() != null).toList();
  }
}
