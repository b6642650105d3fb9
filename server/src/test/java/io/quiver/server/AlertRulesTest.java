package io.quiver.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The observability files are valid: {@code promtool check rules} accepts the alert rules (the CI
 * installs promtool, Debian package {@code prometheus}), every alert has its runbook section in
 * docs/OPERATIONS.md, and the Grafana dashboard is JSON whose panels all query something.
 */
class AlertRulesTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Path RULES = ROOT.resolve("deploy/observability/alerts.yml");
  private static final Path DASHBOARD = ROOT.resolve("deploy/observability/grafana-dashboard.json");
  private static final Path OPERATIONS = ROOT.resolve("docs/OPERATIONS.md");

  @Test
  void promtoolAcceptsTheAlertRules() throws Exception {
    String promtool = findPromtool();
    assertThat(promtool).as("promtool not found on PATH: apt-get install prometheus (.ci/run does)").isNotNull();
    Process p = new ProcessBuilder(promtool, "check", "rules", RULES.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("SUCCESS");
  }

  @Test
  void everyAlertHasARunbookSection() throws Exception {
    String ops = Files.readString(OPERATIONS).toLowerCase(Locale.ROOT);
    List<String> alerts = new ArrayList<>();
    Matcher m = Pattern.compile("- alert: (\\w+)").matcher(Files.readString(RULES));
    while (m.find()) {
      alerts.add(m.group(1));
    }
    assertThat(alerts).hasSizeGreaterThanOrEqualTo(10);
    for (String a : alerts) {
      assertThat(ops).as("runbook heading for " + a).contains("### " + a.toLowerCase(Locale.ROOT));
    }
  }

  @Test
  void dashboardPanelsAllHaveQueries() throws Exception {
    JsonObject d = new JsonObject(Files.readString(DASHBOARD));
    assertThat(d.getString("uid")).isEqualTo("quiver-overview");
    int queried = 0;
    for (Object o : d.getJsonArray("panels")) {
      JsonObject p = (JsonObject) o;
      if (p.getString("type").equals("row")) {
        continue;
      }
      assertThat(p.getJsonArray("targets")).as(p.getString("title")).isNotEmpty();
      p.getJsonArray("targets").forEach(t -> assertThat(((JsonObject) t).getString("expr")).isNotBlank());
      queried++;
    }
    assertThat(queried).isGreaterThan(20);
  }

  private static String findPromtool() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(dir, "promtool");
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return null;
  }
}
