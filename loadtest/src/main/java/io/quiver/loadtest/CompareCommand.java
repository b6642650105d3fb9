package io.quiver.loadtest;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code bench compare A.json B.json}: prints two reports side by side with B/A ratios and exits 1 when
 * B regresses beyond --max-regression on any phase and operation present in A: throughput or recall
 * lower by more than that fraction, or p50/p99 latency higher by more than that fraction, or the
 * phase/operation missing in B. Exit 0 otherwise, 2 when a report cannot be read. This is the
 * regression gate for CI.
 *
 * <p>Not thread-safe (one call per instance); {@link #compare} is a pure function.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
    description = "Compare two JSON reports (baseline A, candidate B); exit 1 when B regresses beyond --max-regression.")
public final class CompareCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "A.json", description = "Baseline report.")
  Path baseline;

  @Parameters(index = "1", paramLabel = "B.json", description = "Candidate report.")
  Path candidate;

  @Option(names = "--max-regression", defaultValue = "0.10",
      description = "Allowed relative regression, e.g. 0.10 = 10% (default ${DEFAULT-VALUE}).")
  double maxRegression;

  /** One compared number. {@code ratio} is B/A (NaN when A is 0). */
  public record Row(String phase, String op, String metric, double a, double b, double ratio, boolean regression) {}

  public record Comparison(List<Row> rows, List<String> missing) {
    public boolean regressed() {
      return !missing.isEmpty() || rows.stream().anyMatch(Row::regression);
    }
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    Report a;
    Report b;
    try {
      a = ReportWriter.read(baseline);
      b = ReportWriter.read(candidate);
    } catch (Exception e) {
      spec.commandLine().getErr().println("bench compare: cannot read reports: " + e.getMessage());
      spec.commandLine().getErr().flush();
      return 2;
    }
    Comparison c = compare(a, b, maxRegression);
    print(a, b, c, out);
    return c.regressed() ? 1 : 0;
  }

  public static Comparison compare(Report a, Report b, double maxRegression) {
    List<Row> rows = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    for (Report.PhaseReport pa : a.phases()) {
      Report.PhaseReport pb = b.phases().stream().filter(p -> p.name().equals(pa.name())).findFirst().orElse(null);
      if (pb == null) {
        missing.add(pa.name());
        continue;
      }
      for (Report.OpReport oa : pa.ops()) {
        Report.OpReport ob = pb.op(oa.op());
        if (ob == null) {
          missing.add(pa.name() + "/" + oa.op());
          continue;
        }
        rows.add(higherIsBetter(pa.name(), oa.op(), "throughput/s", oa.throughput(), ob.throughput(), maxRegression));
        rows.add(lowerIsBetter(pa.name(), oa.op(), "p50 ms", oa.latency().p50Ms(), ob.latency().p50Ms(), maxRegression));
        rows.add(lowerIsBetter(pa.name(), oa.op(), "p95 ms", oa.latency().p95Ms(), ob.latency().p95Ms(), Double.POSITIVE_INFINITY));
        rows.add(lowerIsBetter(pa.name(), oa.op(), "p99 ms", oa.latency().p99Ms(), ob.latency().p99Ms(), maxRegression));
        rows.add(lowerIsBetter(pa.name(), oa.op(), "p99.9 ms", oa.latency().p999Ms(), ob.latency().p999Ms(), Double.POSITIVE_INFINITY));
        rows.add(new Row(pa.name(), oa.op(), "errors", oa.errors(), ob.errors(), ratio(oa.errors(), ob.errors()), false));
        if (oa.recall() != null) {
          double rb = ob.recall() == null ? 0.0 : ob.recall();
          rows.add(higherIsBetter(pa.name(), oa.op(), "recall", oa.recall(), rb, maxRegression));
        }
      }
    }
    return new Comparison(rows, missing);
  }

  private static Row higherIsBetter(String phase, String op, String metric, double a, double b, double max) {
    double r = ratio(a, b);
    return new Row(phase, op, metric, a, b, r, a > 0 && b < a * (1 - max));
  }

  private static Row lowerIsBetter(String phase, String op, String metric, double a, double b, double max) {
    double r = ratio(a, b);
    return new Row(phase, op, metric, a, b, r, a > 0 && b > a * (1 + max));
  }

  private static double ratio(double a, double b) {
    return a == 0 ? Double.NaN : b / a;
  }

  private void print(Report a, Report b, Comparison c, PrintWriter out) {
    out.printf(Locale.ROOT, "A %s (%s, %s)%nB %s (%s, %s)%n", baseline, a.scenario(), a.startedAt(), candidate,
        b.scenario(), b.startedAt());
    if (!Objects.equals(a.scenario(), b.scenario())) {
      out.println("warning: the reports are of different scenarios");
    }
    for (Map.Entry<String, Object> e : a.parameters().entrySet()) {
      Object other = b.parameters().get(e.getKey());
      if (!Objects.equals(String.valueOf(e.getValue()), String.valueOf(other))) {
        out.printf(Locale.ROOT, "warning: parameter %s differs: %s vs %s%n", e.getKey(), e.getValue(), other);
      }
    }
    out.printf(Locale.ROOT, "%-14s %-12s %-13s %12s %12s %8s%n", "phase", "op", "metric", "A", "B", "B/A");
    for (Row r : c.rows()) {
      out.printf(Locale.ROOT, "%-14s %-12s %-13s %12.3f %12.3f %8s%s%n", r.phase(), r.op(), r.metric(), r.a(), r.b(),
          Double.isNaN(r.ratio()) ? "-" : String.format(Locale.ROOT, "%.3f", r.ratio()),
          r.regression() ? "  REGRESSION" : "");
    }
    for (String m : c.missing()) {
      out.println("missing in B: " + m + "  REGRESSION");
    }
    out.printf(Locale.ROOT, "%s (max regression %.0f%%)%n", c.regressed() ? "REGRESSED" : "OK", maxRegression * 100);
    out.flush();
  }
}
