package io.quiver.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CompareCommandTest {

  @TempDir
  Path tmp;

  private final StringWriter out = new StringWriter();

  private int compare(Report a, Report b, String... extra) throws Exception {
    Path fa = tmp.resolve("a.json");
    Path fb = tmp.resolve("b.json");
    ReportWriter.write(a, fa);
    ReportWriter.write(b, fb);
    CommandLine cli = new CommandLine(new BenchCommand());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(out, true));
    String[] args = new String[3 + extra.length];
    args[0] = "compare";
    args[1] = fa.toString();
    args[2] = fb.toString();
    System.arraycopy(extra, 0, args, 3, extra.length);
    return cli.execute(args);
  }

  @Test
  void ratiosAreCandidateOverBaseline() {
    CompareCommand.Comparison c = CompareCommand.compare(
        ReportWriterTest.sample("search", 100, 4.0, 0.9), ReportWriterTest.sample("search", 95, 5.0, 0.9), 0.10);
    CompareCommand.Row throughput = row(c.rows(), "throughput/s");
    assertThat(throughput.ratio()).isCloseTo(0.95, offset(1e-9));
    assertThat(throughput.regression()).isFalse();
    CompareCommand.Row p99 = row(c.rows(), "p99 ms");
    assertThat(p99.ratio()).isCloseTo(1.25, offset(1e-9));
    assertThat(p99.regression()).isTrue();
    assertThat(c.regressed()).isTrue();
  }

  @Test
  void exitsZeroWithinTheAllowedRegression() throws Exception {
    int code = compare(ReportWriterTest.sample("search", 100, 4.0, 0.95), ReportWriterTest.sample("search", 92, 4.3, 0.94));
    assertThat(code).as(out.toString()).isZero();
    assertThat(out.toString()).contains("B/A", "0.920", "OK");
  }

  @Test
  void exitsOneWhenThroughputDropsBeyondTheThreshold() throws Exception {
    int code = compare(ReportWriterTest.sample("search", 100, 4.0, 0.95), ReportWriterTest.sample("search", 80, 4.0, 0.95));
    assertThat(code).isEqualTo(1);
    assertThat(out.toString()).contains("REGRESSION", "REGRESSED");
  }

  @Test
  void maxRegressionOptionWidensTheGate() throws Exception {
    int code = compare(ReportWriterTest.sample("search", 100, 4.0, 0.95), ReportWriterTest.sample("search", 80, 4.0, 0.95),
        "--max-regression", "0.25");
    assertThat(code).isZero();
  }

  @Test
  void recallDropIsARegression() {
    CompareCommand.Comparison c = CompareCommand.compare(
        ReportWriterTest.sample("search", 100, 4.0, 0.95), ReportWriterTest.sample("search", 100, 4.0, 0.70), 0.10);
    assertThat(row(c.rows(), "recall").regression()).isTrue();
  }

  @Test
  void aPhaseMissingInTheCandidateIsARegression() {
    Report a = ReportWriterTest.sample("search", 100, 4.0, 0.95);
    Report b0 = ReportWriterTest.sample("search", 100, 4.0, 0.95);
    Report b = new Report(b0.scenario(), b0.startedAt(), b0.parameters(), b0.machine(), List.of(), b0.checks(), true);
    CompareCommand.Comparison c = CompareCommand.compare(a, b, 0.10);
    assertThat(c.missing()).containsExactly("search");
    assertThat(c.regressed()).isTrue();
  }

  @Test
  void unreadableReportExitsTwo() {
    CommandLine cli = new CommandLine(new BenchCommand());
    cli.setErr(new PrintWriter(out, true));
    assertThat(cli.execute("compare", tmp.resolve("none.json").toString(), tmp.resolve("none.json").toString()))
        .isEqualTo(2);
  }

  private static CompareCommand.Row row(List<CompareCommand.Row> rows, String metric) {
    return rows.stream().filter(r -> r.metric().equals(metric)).findFirst().orElseThrow();
  }
}
