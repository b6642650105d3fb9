package io.quiver.loadtest;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Counters and latency histograms of one operation type ("upsert", "search", ...) within one phase.
 *
 * <p>Invariant: every {@link #recordSent()} is followed by exactly one {@link #recordReply}, so once the
 * phase has drained {@code sent = ok + errors}. Latencies of successful and failed requests go to
 * separate histograms (a fast rejection must not make the success latency look good). Values are
 * recorded in microseconds.
 *
 * <p>Thread-safe: writers use wait-free HdrHistogram {@link Recorder}s and adders; {@link #drainInterval}
 * is the only reader and is synchronized.
 */
public final class OpStats {

  private final String op;
  private final LongAdder sent = new LongAdder();
  private final LongAdder ok = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final Map<String, LongAdder> errorsByCode = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> errorsByStatus = new ConcurrentHashMap<>();
  private final Recorder okRecorder = new Recorder(3);
  private final Recorder errorRecorder = new Recorder(3);
  private final Histogram okTotal = new Histogram(3);
  private final Histogram errorTotal = new Histogram(3);
  private final DoubleAdder recallSum = new DoubleAdder();
  private final LongAdder recallCount = new LongAdder();
  private Histogram okInterval;
  private Histogram errorInterval;

  public OpStats(String op) {
    this.op = op;
  }

  public String op() {
    return op;
  }

  public void recordSent() {
    sent.increment();
  }

  /** Records the outcome of one sent request; {@code latencyNanos} is measured by the caller. */
  public void recordReply(Reply reply, long latencyNanos) {
    long micros = Math.max(0, TimeUnit.NANOSECONDS.toMicros(latencyNanos));
    if (reply.ok()) {
      ok.increment();
      okRecorder.recordValue(micros);
    } else {
      errors.increment();
      errorRecorder.recordValue(micros);
      errorsByCode.computeIfAbsent(reply.code() == null ? "unknown" : reply.code(), k -> new LongAdder()).increment();
      errorsByStatus.computeIfAbsent(Integer.toString(reply.status()), k -> new LongAdder()).increment();
    }
  }

  /** Adds the recall@k of one answered query. */
  public void recordRecall(double recall) {
    recallSum.add(recall);
    recallCount.increment();
  }

  public long sent() {
    return sent.sum();
  }

  public long ok() {
    return ok.sum();
  }

  public long errors() {
    return errors.sum();
  }

  /**
   * Returns the successful-request latencies recorded since the previous call and folds them (and the
   * error latencies) into the phase totals. Used by the once-a-second progress line and at the end.
   */
  public synchronized Histogram drainInterval() {
    okInterval = okRecorder.getIntervalHistogram(okInterval);
    errorInterval = errorRecorder.getIntervalHistogram(errorInterval);
    okTotal.add(okInterval);
    errorTotal.add(errorInterval);
    return okInterval;
  }

  /** Summarises this operation after the phase has drained; {@code seconds} is the phase's duration. */
  public synchronized Report.OpReport toReport(double seconds) {
    drainInterval();
    Double recall = recallCount.sum() == 0 ? null : recallSum.sum() / recallCount.sum();
    return new Report.OpReport(
        op,
        sent(),
        ok(),
        errors(),
        seconds > 0 ? ok() / seconds : 0.0,
        Report.LatencySummary.of(okTotal),
        Report.LatencySummary.of(errorTotal),
        sorted(errorsByCode),
        sorted(errorsByStatus),
        recall);
  }

  private static Map<String, Long> sorted(Map<String, LongAdder> counters) {
    Map<String, Long> out = new TreeMap<>();
    counters.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }
}
