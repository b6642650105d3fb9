package io.quiver.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.quiver.loadtest.BenchCommand;
import io.quiver.loadtest.Report;
import io.quiver.loadtest.ReportWriter;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short smoke run of every {@code bin/quiver bench} scenario against a real cluster (issue 10): a
 * standalone topology in this JVM (Hazelcast member, 2 shard verticles, gateway) for ingest, search,
 * mixed, overload, soak, readonly-toggle and compare, and separate {@code bin/quiver gateway} /
 * {@code bin/quiver shard} processes for chaos, which kills and restarts the shards it starts. Each run
 * is seconds long on small synthetic data; each must exit 0 and write a well-formed report whose counts
 * add up ({@code sent = ok + errors} for every operation of every phase).
 *
 * <p>Scenarios run in-process through {@link BenchCommand#execute} (no JVM start each), except ingest,
 * which runs as {@code bin/quiver bench} so that the packaged jar is checked too.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BenchSmokeIT {
  private static final int DIM = 16;
  private static final int POINTS = 2_000;

  @TempDir static Path dir;
  private static Standalone cluster;
  private static String url;

  @BeforeAll
  static void start() {
    cluster = InProcessCluster.start(dir.resolve("standalone"), "bench-it", 2);
    url = "http://127.0.0.1:" + cluster.httpPort();
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** Options every data-driven scenario shares: small synthetic data, few queries, no progress line. */
  private static List<String> common() {
    return List.of("--url", url, "--dataset", "synthetic", "--points", Integer.toString(POINTS), "--dim",
        Integer.toString(DIM), "--queries", "50", "--quiet");
  }

  @Test
  @Order(1)
  void ingestThroughTheLauncherLoadsEveryPoint() throws Exception {
    Path report = dir.resolve("ingest.json");
    List<String> args = new ArrayList<>(List.of("bench", "ingest"));
    args.addAll(common());
    args.addAll(List.of("--recreate", "--batch", "64", "--report", report.toString()));
    Process p = new ProcessBuilder(launcherCommand(args)).redirectErrorStream(true)
        .redirectOutput(dir.resolve("ingest.out").toFile()).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("bench ingest finished").isTrue();
    assertThat(p.exitValue()).as("exit code; output:\n" + Files.readString(dir.resolve("ingest.out"))).isZero();
    JsonObject r = wellFormed(report, "ingest");
    JsonObject upsert = op(r, "ingest", "upsert");
    assertThat(upsert.getLong("sent")).isEqualTo((POINTS + 63) / 64);
    assertThat(upsert.getLong("errors")).isZero();
    assertThat(new TestHttp(cluster.httpPort()).get("/collections/bench").obj().getLong("point_count"))
        .isEqualTo(POINTS);
  }

  @Test
  @Order(2)
  void ingestOverTheGatewaysGrpcPortLoadsEveryPoint() throws Exception {
    Path report = dir.resolve("ingest-grpc.json");
    List<String> args = new ArrayList<>(List.of("ingest", "--transport", "grpc", "--url",
        "http://127.0.0.1:" + cluster.grpcPort(), "--dataset", "synthetic", "--points", Integer.toString(POINTS),
        "--dim", Integer.toString(DIM), "--queries", "50", "--quiet", "--collection", "bench_grpc", "--recreate",
        "--batch", "256", "--report", report.toString()));
    assertThat(bench(args)).as("bench " + args).isZero();
    JsonObject r = wellFormed(report, "ingest");
    JsonObject upsert = op(r, "ingest", "upsert");
    assertThat(upsert.getLong("sent")).isEqualTo((POINTS + 255) / 256);
    assertThat(upsert.getLong("errors")).as("errors " + upsert.getJsonObject("errors_by_code")).isZero();
    assertThat(new TestHttp(cluster.httpPort()).get("/collections/bench_grpc").obj().getLong("point_count"))
        .isEqualTo(POINTS);
    JsonObject point = new TestHttp(cluster.httpPort()).get("/collections/bench_grpc/points/7").obj();
    assertThat(point.getJsonObject("payload").containsKey("label")).as("payload sent as a Struct: " + point).isTrue();
  }

  @Test
  @Order(2)
  void searchRunsInEveryModeWithAndWithoutFilterAndBatched() throws Exception {
    String filter = "{\"must\":[{\"field\":\"label\",\"value\":3}]}";
    List<List<String>> variants = List.of(
        List.of("--mode", "exact"),
        List.of("--mode", "ann"),
        List.of("--mode", "auto"),
        List.of("--mode", "exact", "--filter", filter),
        List.of("--mode", "ann", "--filter", filter),
        List.of("--mode", "auto", "--batch-queries", "10"));
    int n = 0;
    for (List<String> variant : variants) {
      Path report = dir.resolve("search-" + (n++) + ".json");
      List<String> args = new ArrayList<>(List.of("search"));
      args.addAll(common());
      args.addAll(List.of("--duration", "2s", "--concurrency", "4", "--report", report.toString()));
      args.addAll(variant);
      assertThat(bench(args)).as("bench " + args).isZero();
      JsonObject r = wellFormed(report, "search");
      boolean batched = variant.contains("--batch-queries");
      JsonObject search = op(r, "search", batched ? "search_batch" : "search");
      assertThat(search.getLong("ok")).as(variant + " ok").isPositive();
      assertThat(search.getLong("errors")).as(variant + " errors " + search.getJsonObject("errors_by_code")).isZero();
      if (!variant.contains("--filter")) {
        assertThat(search.getDouble("recall")).as(variant + " recall").isBetween(0.0, 1.0);
      }
      if (variant.contains("exact") && !variant.contains("--filter")) {
        assertThat(search.getDouble("recall")).as("exact recall").isEqualTo(1.0);
      }
    }
  }

  @Test
  @Order(3)
  void mixedReadsAndWrites() throws Exception {
    Path report = dir.resolve("mixed.json");
    List<String> args = new ArrayList<>(List.of("mixed"));
    args.addAll(common());
    args.addAll(List.of("--duration", "2s", "--no-recall", "--report", report.toString()));
    assertThat(bench(args)).isZero();
    JsonObject r = wellFormed(report, "mixed");
    assertThat(op(r, "mixed", "search").getLong("ok")).isPositive();
    assertThat(op(r, "mixed", "upsert").getLong("ok")).isPositive();
  }

  @Test
  @Order(4)
  void overloadStepsUpToTwiceTheCapacity() throws Exception {
    Path report = dir.resolve("overload.json");
    List<String> args = new ArrayList<>(List.of("overload"));
    args.addAll(common());
    args.addAll(List.of("--mode", "exact", "--no-recall", "--calibrate", "1s", "--max-factor", "2", "--factor-step", "1",
        "--step-duration", "1s", "--report", report.toString()));
    assertThat(bench(args)).isZero();
    JsonObject r = wellFormed(report, "overload");
    List<String> phases = phaseNames(r);
    assertThat(phases).containsExactly("calibrate", "step-x1.00", "step-x2.00");
    assertThat(r.getJsonObject("checks").getDouble("capacity_per_s")).isPositive();
    for (Object p : r.getJsonArray("phases")) {
      JsonObject extra = ((JsonObject) p).getJsonObject("extra");
      if (((JsonObject) p).getString("name").startsWith("step")) {
        assertThat(extra.getDouble("goodput_per_s")).as("goodput of " + extra).isNotNull();
      }
    }
  }

  @Test
  @Order(5)
  void soakReportsOneWindowPerSecond() throws Exception {
    Path report = dir.resolve("soak.json");
    List<String> args = new ArrayList<>(List.of("soak"));
    args.addAll(common());
    args.addAll(List.of("--duration", "3s", "--window", "1s", "--no-recall", "--report", report.toString()));
    assertThat(bench(args)).isZero();
    JsonObject r = wellFormed(report, "soak");
    assertThat(phaseNames(r)).containsExactly("window-1", "window-2", "window-3");
  }

  @Test
  @Order(6)
  void compareAcceptsASelfComparisonAndCatchesARegression() throws Exception {
    Path baseline = dir.resolve("search-0.json");
    assertThat(bench(List.of("compare", baseline.toString(), baseline.toString()))).isZero();

    // The same report with a third of the throughput: a regression beyond 10%.
    JsonObject worse = new JsonObject(Files.readString(baseline));
    for (Object p : worse.getJsonArray("phases")) {
      for (Object o : ((JsonObject) p).getJsonArray("ops")) {
        JsonObject op = (JsonObject) o;
        op.put("throughput_per_s", op.getDouble("throughput_per_s") / 3);
      }
    }
    Path candidate = dir.resolve("search-0-worse.json");
    Files.writeString(candidate, worse.encodePrettily());
    assertThat(bench(List.of("compare", baseline.toString(), candidate.toString(), "--max-regression", "0.10")))
        .isEqualTo(1);
  }

  @Test
  @Order(7)
  void readOnlyToggleAcknowledgesNoWriteWhileOn() throws Exception {
    assertThat(new TestHttp(cluster.httpPort()).get("/admin/read-only").status()).isEqualTo(200);
    Path report = dir.resolve("readonly.json");
    List<String> args = new ArrayList<>(List.of("readonly-toggle"));
    args.addAll(common());
    args.addAll(List.of("--duration", "6s", "--toggle-after", "2s", "--off-after", "4s", "--report", report.toString()));
    assertThat(bench(args)).isZero();
    JsonObject r = wellFormed(report, "readonly-toggle");
    assertThat(r.getJsonObject("checks").getLong("acked_sent_after_toggle")).isZero();
  }

  @Test
  @Order(8)
  void chaosKillsAndRestartsShardProcessesAndLosesNoAcknowledgedWrite() throws Exception {
    String name = "bench-chaos-" + UUID.randomUUID();
    int clusterPort = TestHttp.freePort();
    int httpPort = TestHttp.freePort();
    Path data = dir.resolve("chaos");
    Files.createDirectories(data);
    // A gateway is a Hazelcast lite member and cannot form a cluster alone, so it starts once the first
    // shard chaos started is up: keep launching it (each failed launch exits within seconds) until
    // one prints its ready line; chaos meanwhile polls the gateway's /ready.
    AtomicReference<QuiverProcess> gateway = new AtomicReference<>();
    AtomicBoolean done = new AtomicBoolean();
    Thread starter = new Thread(() -> {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
      while (!done.get() && System.nanoTime() < deadline) {
        try {
          gateway.set(QuiverProcess.start(List.of("gateway", "--http-host", "127.0.0.1",
                  "--http-port", Integer.toString(httpPort), "--grpc-port", Integer.toString(TestHttp.freePort()),
                  "--cluster-name", name, "--cluster-port", Integer.toString(clusterPort),
                  "--cluster-members", "127.0.0.1:" + (clusterPort + 1) + ",127.0.0.1:" + (clusterPort + 2)),
              Map.of("QUIVER_HEAP", "384m"), data.resolve("gateway.log"), "Quiver gateway ready", 120));
          return;
        } catch (Exception e) {
          // no shard up yet: the launch failed; try again
        }
      }
    }, "bench-it-gateway-starter");
    starter.start();
    try {
      // Each shard: own data dir, ports chosen by the OS (the shard registers the ports it got), a
      // Hazelcast port searched upwards from clusterPort + 1.
      String shardCmd = "QUIVER_HEAP=384m exec " + QuiverProcess.LAUNCHER + " shard --shard-id {i} --host 127.0.0.1"
          + " --shard-port 0 --shard-http-port 0 --data " + data.resolve("shard-{i}")
          + " --cluster-name " + name + " --cluster-port " + (clusterPort + 1)
          + " --cluster-members 127.0.0.1:" + (clusterPort + 1) + ",127.0.0.1:" + (clusterPort + 2)
          + ",127.0.0.1:" + clusterPort + " --memory-budget-mb 64";
      Path report = data.resolve("chaos.json");
      List<String> args = new ArrayList<>(List.of("chaos", "--url", "http://127.0.0.1:" + httpPort,
          "--dataset", "synthetic", "--points", "500", "--dim", Integer.toString(DIM), "--quiet", "--create",
          "--collection", "chaos", "--shards", "2", "--shard-cmd", shardCmd, "--log-dir", data.resolve("logs").toString(),
          "--duration", "12s", "--kill-every", "4s", "--restart-delay", "1s", "--ready-timeout", "150s",
          "--concurrency", "4", "--report", report.toString()));
      int exit = bench(args);
      assertThat(exit).as("bench chaos exit code; report:\n" + (Files.exists(report) ? Files.readString(report) : "none")
          + "\nshard logs in " + data.resolve("logs")).isZero();
      JsonObject r = wellFormed(report, "chaos");
      JsonObject checks = r.getJsonObject("checks");
      assertThat(checks.getInteger("kills")).isGreaterThanOrEqualTo(2);
      assertThat(checks.getLong("lost")).isZero();
      assertThat(checks.getLong("mismatched")).isZero();
      assertThat(checks.getLong("acked_points")).isPositive();
    } finally {
      done.set(true);
      starter.join(TimeUnit.SECONDS.toMillis(150));
      if (gateway.get() != null) {
        gateway.get().close();
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  /** Runs a bench command line in this JVM; returns its exit code. Output goes to the test's stdout. */
  private static int bench(List<String> args) {
    PrintStream out = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      return BenchCommand.execute(args.toArray(String[]::new));
    } finally {
      System.setOut(out);
      out.println("bench " + String.join(" ", args) + "\n" + captured.toString(StandardCharsets.UTF_8));
    }
  }

  private static List<String> launcherCommand(List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add("env");
    cmd.add("QUIVER_HEAP=512m");
    cmd.add(QuiverProcess.LAUNCHER.toString());
    cmd.addAll(args);
    return cmd;
  }

  /**
   * Reads the report as JSON and through {@link ReportWriter#read} (the path compare takes), and checks
   * what every report must satisfy: version, scenario, machine, phases with consistent counts, passed.
   */
  private static JsonObject wellFormed(Path file, String scenario) throws IOException {
    assertThat(file).exists();
    JsonObject r = new JsonObject(Files.readString(file));
    assertThat(r.getInteger("format_version")).isEqualTo(ReportWriter.FORMAT_VERSION);
    assertThat(r.getString("scenario")).isEqualTo(scenario);
    assertThat(r.getString("started_at")).isNotBlank();
    assertThat(r.getJsonObject("parameters")).isNotNull();
    assertThat(r.getJsonObject("machine").getInteger("cores")).isPositive();
    JsonArray phases = r.getJsonArray("phases");
    assertThat(phases).isNotEmpty();
    for (Object po : phases) {
      JsonObject p = (JsonObject) po;
      assertThat(p.getString("name")).isNotBlank();
      assertThat(p.getDouble("duration_s")).isPositive();
      for (Object oo : p.getJsonArray("ops")) {
        JsonObject o = (JsonObject) oo;
        String what = scenario + "/" + p.getString("name") + "/" + o.getString("op");
        long sent = o.getLong("sent");
        long ok = o.getLong("ok");
        long errors = o.getLong("errors");
        assertThat(sent).as(what + ": sent = ok + errors").isEqualTo(ok + errors);
        assertThat(o.getJsonObject("latency_ms").getLong("count")).as(what + " latency count").isEqualTo(ok);
        assertThat(o.getJsonObject("error_latency_ms").getLong("count")).as(what + " error latency count").isEqualTo(errors);
        long byCode = o.getJsonObject("errors_by_code").stream().mapToLong(e -> ((Number) e.getValue()).longValue()).sum();
        assertThat(byCode).as(what + " errors by code").isEqualTo(errors);
        if (ok > 0) {
          JsonObject l = o.getJsonObject("latency_ms");
          assertThat(l.getDouble("p50")).isLessThanOrEqualTo(l.getDouble("p99"));
          assertThat(l.getDouble("p99")).isLessThanOrEqualTo(l.getDouble("max"));
        }
      }
    }
    assertThat(r.getJsonObject("checks").getBoolean("counts_consistent")).isTrue();
    assertThat(r.getBoolean("passed")).as(scenario + " passed; checks " + r.getJsonObject("checks")).isTrue();
    Report parsed = ReportWriter.read(file);
    assertThat(parsed.phases()).hasSameSizeAs(phases);
    assertThat(parsed.phases().stream().flatMap(p -> p.ops().stream()).allMatch(Report.OpReport::consistent)).isTrue();
    return r;
  }

  private static JsonObject op(JsonObject report, String phase, String op) {
    for (Object po : report.getJsonArray("phases")) {
      JsonObject p = (JsonObject) po;
      if (p.getString("name").equals(phase)) {
        for (Object oo : p.getJsonArray("ops")) {
          if (((JsonObject) oo).getString("op").equals(op)) {
            return (JsonObject) oo;
          }
        }
      }
    }
    throw new AssertionError("no op " + op + " in phase " + phase + " of " + report.encode());
  }

  private static List<String> phaseNames(JsonObject report) {
    List<String> names = new ArrayList<>();
    report.getJsonArray("phases").forEach(p -> names.add(((JsonObject) p).getString("name")));
    return names;
  }
}
