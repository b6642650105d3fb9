package io.quiver.loadtest;

import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * The result of one bench run, as written to {@code --report FILE} and read back by {@code compare}.
 * Field names follow the project's JSON convention (snake_case) in {@link ReportWriter}.
 *
 * <p>Immutable value types. {@code parameters}, {@code extra} and {@code checks} hold JSON-compatible
 * values only (strings, numbers, booleans, lists and maps of these).
 */
public record Report(
    String scenario,
    String startedAt,
    Map<String, Object> parameters,
    Machine machine,
    List<PhaseReport> phases,
    Map<String, Object> checks,
    boolean passed) {

  /** The machine the client ran on; the server may be elsewhere. */
  public record Machine(int cores, String jdk, String os, String arch, long maxHeapBytes) {
    public static Machine current() {
      return new Machine(
          Runtime.getRuntime().availableProcessors(),
          System.getProperty("java.vendor") + " " + Runtime.version(),
          System.getProperty("os.name") + " " + System.getProperty("os.version"),
          System.getProperty("os.arch"),
          Runtime.getRuntime().maxMemory());
    }
  }

  /** One measured phase; {@code offeredRate} is the open-loop target rate, null for closed loop. */
  public record PhaseReport(String name, double durationSeconds, Double offeredRate, List<OpReport> ops,
      Map<String, Object> extra) {

    public OpReport op(String op) {
      return ops.stream().filter(o -> o.op().equals(op)).findFirst().orElse(null);
    }
  }

  /** Counters and latencies of one operation type in one phase. {@code throughput} is ok per second. */
  public record OpReport(
      String op,
      long sent,
      long ok,
      long errors,
      double throughput,
      LatencySummary latency,
      LatencySummary errorLatency,
      Map<String, Long> errorsByCode,
      Map<String, Long> errorsByStatus,
      Double recall) {

    /** The accounting invariant every report must satisfy. */
    public boolean consistent() {
      return sent == ok + errors
          && errorsByCode.values().stream().mapToLong(Long::longValue).sum() == errors
          && errorsByStatus.values().stream().mapToLong(Long::longValue).sum() == errors
          && latency.count() == ok
          && errorLatency.count() == errors;
    }
  }

  /** Latency percentiles in milliseconds. */
  public record LatencySummary(long count, double meanMs, double p50Ms, double p95Ms, double p99Ms,
      double p999Ms, double maxMs) {

    static final LatencySummary EMPTY = new LatencySummary(0, 0, 0, 0, 0, 0, 0);

    /** Summarises a histogram of microsecond values. */
    public static LatencySummary of(Histogram micros) {
      if (micros.getTotalCount() == 0) {
        return EMPTY;
      }
      return new LatencySummary(
          micros.getTotalCount(),
          micros.getMean() / 1000.0,
          micros.getValueAtPercentile(50) / 1000.0,
          micros.getValueAtPercentile(95) / 1000.0,
          micros.getValueAtPercentile(99) / 1000.0,
          micros.getValueAtPercentile(99.9) / 1000.0,
          micros.getMaxValue() / 1000.0);
    }
  }
}
