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
    assertThat(r.parameters()).containsEntry("batch", 64);
    assertThat(out.toString()).contains("ingest").contains("PASSED");
  }
}
