package io.quiver.loadtest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The statistics of one phase of a scenario (a measured run, one overload step, one soak window): one
 * {@link OpStats} per operation type, in first-use order.
 *
 * <p>Thread-safe.
 */
public final class PhaseStats {

  private final String name;
  private final Map<String, OpStats> ops = new ConcurrentHashMap<>();
  private final Map<Long, String> order = new ConcurrentSkipListMap<>();
  private final java.util.concurrent.atomic.AtomicLong sequence = new java.util.concurrent.atomic.AtomicLong();

  public PhaseStats(String name) {
    this.name = name;
  }

  public String name() {
    return name;
  }

  public OpStats op(String op) {
    return ops.computeIfAbsent(op, k -> {
      order.put(sequence.getAndIncrement(), k);
      return new OpStats(k);
    });
  }

  public List<OpStats> ops() {
    List<OpStats> out = new ArrayList<>();
    for (String k : order.values()) {
      out.add(ops.get(k));
    }
    return out;
  }

  public long sent() {
    return ops.values().stream().mapToLong(OpStats::sent).sum();
  }

  public long ok() {
    return ops.values().stream().mapToLong(OpStats::ok).sum();
  }

  public long errors() {
    return ops.values().stream().mapToLong(OpStats::errors).sum();
  }

  /** Builds the report entry; {@code offeredRate} is null for closed-loop phases. */
  public Report.PhaseReport toReport(double seconds, Double offeredRate, Map<String, Object> extra) {
    List<Report.OpReport> reports = new ArrayList<>();
    for (OpStats s : ops()) {
      reports.add(s.toReport(seconds));
    }
    return new Report.PhaseReport(name, seconds, offeredRate, reports, extra == null ? Map.of() : extra);
  }
}
