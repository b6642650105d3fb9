package io.quiver.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportWriterTest {

  @TempDir
  Path tmp;

  static Report sample(String scenario, double throughput, double p99, Double recall) {
    Report.LatencySummary lat = new Report.LatencySummary(90, 1.5, 1.0, 2.0, p99, 4.0, 5.0);
    Report.LatencySummary errLat = new Report.LatencySummary(10, 0.2, 0.1, 0.3, 0.4, 0.5, 0.5);
    Report.OpReport op = new Report.OpReport("search", 100, 90, 10, throughput, lat, errLat,
        Map.of("overloaded", 10L), Map.of("503", 10L), recall);
    Map<String, Object> extra = new LinkedHashMap<>();
    extra.put("factor", 2.0);
    Report.PhaseReport phase = new Report.PhaseReport("search", 10.0, 100.0, List.of(op), extra);
    Map<String, Object> params = new LinkedHashMap<>();
    params.put("url", "http://127.0.0.1:8080");
    params.put("k", 10);
    params.put("create", false);
    Map<String, Object> checks = new LinkedHashMap<>();
    checks.put("acked_after_toggle", 0);
    checks.put("pending", List.of("shard-1"));
    return new Report(scenario, "2026-11-23T00:00:00Z", params, new Report.Machine(2, "Eclipse 25", "Linux", "amd64", 1L << 30),
        List.of(phase), checks, true);
  }

  @Test
  void jsonRoundTripKeepsEveryField() throws Exception {
    Report r = sample("search", 9.0, 3.0, 0.97);
    Path file = tmp.resolve("sub/r.json");
    ReportWriter.write(r, file);
    Report back = ReportWriter.read(file);

    assertThat(back).usingRecursiveComparison().isEqualTo(r);
    assertThat(ReportWriter.toJson(back).encode()).isEqualTo(ReportWriter.toJson(r).encode());
  }

  @Test
  void jsonUsesSnakeCaseNamesAndOmitsMissingRecall() {
    String json = ReportWriter.toJson(sample("ingest", 1, 1, null)).encode();
    assertThat(json).contains("\"throughput_per_s\"", "\"latency_ms\"", "\"p999\"", "\"errors_by_code\"",
        "\"offered_rate_per_s\"", "\"format_version\":1").doesNotContain("\"recall\"");
  }

  @Test
  void refusesAnotherFormatVersion() {
    var json = ReportWriter.toJson(sample("search", 1, 1, null)).put("format_version", 99);
    assertThatThrownBy(() -> ReportWriter.fromJson(json)).hasMessageContaining("format_version 99");
  }

  @Test
  void tablePrintsOneRowPerOperationWithErrorsAndVerdict() {
    StringWriter out = new StringWriter();
    ReportWriter.printTable(sample("search", 9.0, 3.0, 0.97), new PrintWriter(out));
    assertThat(out.toString()).contains("== search", "offered 100/s", "0.9700", "overloaded=10", "PASSED");
  }
}
