package io.quiver.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Runs every scenario through the real command line against {@link FakeQuiverServer} and checks that
 * the report is well-formed, its counts add up, and the scenario's own checks pass or fail as they should.
 */
class ScenariosTest {

  @TempDir
  Path tmp;

  private Vertx vertx;
  private FakeQuiverServer server;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private static final String[] SMALL_DATA = {"--points", "400", "--dim", "8", "--clusters", "4", "--queries", "40",
      "--quiet", "--threads", "1", "--timeout", "2s"};

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    server = new FakeQuiverServer(vertx);
  }

  @AfterEach
  void stop() {
    server.close();
    BenchRun.await(vertx.close());
  }

  private int bench(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--url", server.url()));
    all.addAll(List.of(SMALL_DATA));
    CommandLine cli = new CommandLine(new BenchCommand());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(all.toArray(String[]::new));
  }

  private Report report(Path file) throws Exception {
    Report r = ReportWriter.read(file);
    assertThat(r.machine().cores()).isPositive();
    assertThat(r.phases()).isNotEmpty();
    for (Report.PhaseReport p : r.phases()) {
      for (Report.OpReport o : p.ops()) {
        assertThat(o.consistent()).as("sent = ok + errors in %s/%s", p.name(), o.op()).isTrue();
      }
    }
    return r;
  }

  @Test
  void ingestLoadsTheWholeDatasetOnceByDefault() throws Exception {
    Path file = tmp.resolve("ingest.json");
    int code = bench("ingest", "--create", "--batch", "64", "--report", file.toString());

    assertThat(code).as(out + "\n" + err).isZero();
    Report r = report(file);
    Report.OpReport upsert = r.phases().get(0).op("upsert");
    assertThat(upsert.sent()).isEqualTo(7); // ceil(400 / 64)
    assertThat(upsert.ok()).isEqualTo(7);
    assertThat(server.points("bench")).isEqualTo(400);
    assertThat(server.createRequest("bench").containsKey("partitions")).as("the server's default applies").isFalse();
    assertThat(r.parameters()).containsEntry("batch", 64);
    assertThat(out.toString()).contains("ingest").contains("PASSED");
  }

  @Test
  void partitionsAreAskedForWhenTheBenchCreatesTheCollection() throws Exception {
    int code = bench("ingest", "--create", "--partitions", "2", "--report", tmp.resolve("p2.json").toString());

    assertThat(code).as(out + "\n" + err).isZero();
    assertThat(server.createRequest("bench").getInteger("partitions")).isEqualTo(2);
  }

  @Test
  void searchReportsPerfectRecallAgainstAnExactServer() throws Exception {
    Path file = tmp.resolve("search.json");
    int code = bench("search", "--prepare", "--mode", "exact", "--k", "5", "--requests", "60", "--concurrency", "4",
        "--report", file.toString());

    assertThat(code).as(out + "\n" + err).isZero();
    Report r = report(file);
    assertThat(r.phases()).extracting(Report.PhaseReport::name).containsExactly("prepare", "search");
    Report.OpReport search = r.phases().get(1).op("search");
    assertThat(search.sent()).isEqualTo(60);
    assertThat(search.ok()).isEqualTo(60);
    assertThat(search.recall()).isEqualTo(1.0);
    assertThat(search.latency().p50Ms()).isPositive();
    assertThat(r.parameters()).containsEntry("mode", "exact").containsEntry("k", 5);
  }

  @Test
  void batchSearchUsesTheBatchEndpointAndScoresEveryQuery() throws Exception {
    Path file = tmp.resolve("batch.json");
    int code = bench("search", "--prepare", "--batch-queries", "8", "--requests", "10", "--report", file.toString());

    assertThat(code).as(out + "\n" + err).isZero();
    Report.OpReport batch = report(file).phases().get(1).op("search_batch");
    assertThat(batch.ok()).isEqualTo(10);
    assertThat(batch.recall()).isEqualTo(1.0);
  }

  @Test
  void searchWithoutCollectionCountsNotFoundErrorsByCodeAndStatusAndFails() throws Exception {
    Path file = tmp.resolve("missing.json");
    int code = bench("search", "--collection", "nope", "--no-recall", "--requests", "12", "--report", file.toString());

    assertThat(code).isEqualTo(1); // a phase where nothing succeeded measured nothing
    Report r = report(file);
    assertThat(r.checks()).containsEntry("phases_without_success", java.util.List.of("search"));
    Report.OpReport search = r.phases().get(0).op("search");
    assertThat(search.errors()).isEqualTo(12);
    assertThat(search.errorsByCode()).containsEntry("not_found", 12L);
    assertThat(search.errorsByStatus()).containsEntry("404", 12L);
  }

  @Test
  void openLoopMixedRunSendsTheScheduledNumberOfRequests() throws Exception {
    Path file = tmp.resolve("mixed.json");
    int code = bench("mixed", "--prepare", "--rate", "200", "--requests", "100", "--write-ratio", "0.3",
        "--report", file.toString());

    assertThat(code).as(out + "\n" + err).isZero();
    Report.PhaseReport mixed = report(file).phases().get(1);
    assertThat(mixed.offeredRate()).isEqualTo(200.0);
    long writes = mixed.op("upsert").sent();
    long reads = mixed.op("search").sent();
    assertThat(writes + reads).isEqualTo(100);
    assertThat(writes).isBetween(15L, 45L);
    assertThat(mixed.op("search").recall()).isEqualTo(1.0);
  }

  @Test
  void readOnlyTogglePassesWhenNoWriteIsAcknowledgedWhileFrozen() throws Exception {
    Path file = tmp.resolve("ro.json");
    int code = bench("readonly-toggle", "--create", "--duration", "1.2s", "--concurrency", "2", "--batch", "4",
        "--report", file.toString());

    assertThat(code).as(out + "\n" + err).isZero();
    Report r = report(file);
    assertThat(r.checks()).containsEntry("acked_sent_after_toggle", 0).containsKey("acked_in_flight_across_toggle");
    assertThat(((Number) r.checks().get("read_only_rejections")).longValue()).isPositive();
    assertThat(((Number) r.checks().get("writes_ok_after_off")).longValue()).isPositive();
    assertThat(r.phases().get(0).op("upsert").errorsByCode()).containsKey("read_only");
    assertThat(server.readOnly).isFalse();
  }

  @Test
  void readOnlyToggleFailsWhenWritesSlipThroughAfterTheToggleReturned() throws Exception {
    server.leakReadOnlyMs = 150;
    Path file = tmp.resolve("ro-leak.json");
    int code = bench("readonly-toggle", "--create", "--duration", "1.2s", "--concurrency", "2", "--batch", "4",
        "--report", file.toString());

    assertThat(code).isEqualTo(1);
    Report r = report(file);
    assertThat(((Number) r.checks().get("acked_sent_after_toggle")).longValue()).isPositive();
    assertThat(r.passed()).isFalse();
    assertThat(server.readOnly).isFalse();
  }

  @Test
  void overloadStepsTheOfferedRateAndReportsShedRequests() throws Exception {
    server.maxInFlight = 2;
    server.delayMs = 20;
    Path file = tmp.resolve("overload.json");
    int code = bench("overload", "--prepare", "--capacity", "100", "--max-factor", "2", "--factor-step", "1",
        "--step-duration", "0.5s", "--report", file.toString());

    assertThat(code).as(out + "\n" + err).isZero();
    Report r = report(file);
    assertThat(r.phases()).extracting(Report.PhaseReport::name).containsExactly("prepare", "step-x1.00", "step-x2.00");
    Report.PhaseReport top = r.phases().get(2);
    assertThat(top.offeredRate()).isEqualTo(200.0);
    assertThat(top.op("search").sent()).isBetween(90L, 101L);
    assertThat(top.op("search").errorsByCode()).containsKey("overloaded");
    assertThat(((Number) top.extra().get("shed")).longValue()).isPositive();
    assertThat(top.extra()).containsKeys("goodput_per_s", "rejection_p99_ms");
  }

  @Test
  void soakReportsOneWindowPerInterval() throws Exception {
    Path file = tmp.resolve("soak.json");
    int code = bench("soak", "--prepare", "--duration", "0.9s", "--window", "0.3s", "--rate", "100",
        "--report", file.toString());

    assertThat(code).as(out + "\n" + err).isZero();
    assertThat(report(file).phases()).extracting(Report.PhaseReport::name)
        .containsExactly("prepare", "window-1", "window-2", "window-3");
  }

  @Test
  void chaosKillsAndRestartsShardsAndVerifiesEveryAcknowledgedWrite() throws Exception {
    Path file = tmp.resolve("chaos.json");
    int code = bench("chaos", "--create", "--shards", "2", "--shard-cmd", "exec sleep 30", "--kill-every", "0.2s",
        "--restart-delay", "0.05s", "--duration", "1s", "--concurrency", "2", "--batch", "4",
        "--log-dir", tmp.resolve("logs").toString(), "--report", file.toString());

    assertThat(code).as(out + "\n" + err).isZero();
    Report r = report(file);
    assertThat(((Number) r.checks().get("kills")).intValue()).isGreaterThanOrEqualTo(2);
    long acked = ((Number) r.checks().get("acked_points")).longValue();
    assertThat(acked).isPositive();
    assertThat(r.checks()).containsEntry("lost", 0).containsEntry("verified", (int) acked);
    assertThat(r.phases()).extracting(Report.PhaseReport::name).containsExactly("writes", "verify");
  }

  @Test
  void chaosFailsWhenAnAcknowledgedWriteIsMissing() throws Exception {
    server.dropEvery = 7;
    Path file = tmp.resolve("chaos-lost.json");
    int code = bench("chaos", "--create", "--shards", "1", "--shard-cmd", "exec sleep 30", "--kill-every", "0.3s",
        "--duration", "0.6s", "--concurrency", "2", "--batch", "4",
        "--log-dir", tmp.resolve("logs").toString(), "--report", file.toString());

    assertThat(code).isEqualTo(1);
    assertThat(((Number) report(file).checks().get("lost")).longValue()).isPositive();
  }

  @Test
  void badOptionsExitWithUsageError() {
    assertThat(bench("search", "--metric", "hamming")).isEqualTo(2);
    assertThat(bench("soak")).isEqualTo(2);
    assertThat(bench("chaos")).isEqualTo(2); // --shard-cmd is required
    assertThat(err.toString()).contains("--shard-cmd");
  }
}
