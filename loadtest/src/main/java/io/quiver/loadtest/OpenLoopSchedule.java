package io.quiver.loadtest;

/**
 * The intended send times of an open-loop run: request {@code i} is due at
 * {@code start + i / rate}, whatever happened to earlier requests. Latency is measured from this
 * intended time, so a stalled server (or a late client timer) shows up in the percentiles instead of
 * silently lowering the offered load (no coordinated omission).
 *
 * <p>A pure function of the clock values passed in: no timers, no threads. Not thread-safe; the
 * {@link LoadDriver} calls it under its own lock.
 */
public final class OpenLoopSchedule {

  /** Receives one due send. */
  @FunctionalInterface
  public interface DueSend {
    void send(long seq, long intendedNanos);
  }

  private final long startNanos;
  private final double nanosPerRequest;
  private final long endNanos;
  private final long maxRequests;
  private long next;

  /**
   * @param durationNanos sending window, or 0 for none
   * @param maxRequests   number of requests, or 0 for no limit
   */
  public OpenLoopSchedule(long startNanos, double ratePerSecond, long durationNanos, long maxRequests) {
    if (!(ratePerSecond > 0)) {
      throw new IllegalArgumentException("rate must be > 0, got " + ratePerSecond);
    }
    if (durationNanos <= 0 && maxRequests <= 0) {
      throw new IllegalArgumentException("an open-loop run needs a duration or a request count");
    }
    this.startNanos = startNanos;
    this.nanosPerRequest = 1e9 / ratePerSecond;
    this.endNanos = durationNanos > 0 ? startNanos + durationNanos : Long.MAX_VALUE;
    this.maxRequests = maxRequests > 0 ? maxRequests : Long.MAX_VALUE;
  }

  public long intendedNanos(long seq) {
    return startNanos + (long) (seq * nanosPerRequest);
  }

  /** Hands every send that is due at {@code nowNanos} to {@code sink}, oldest first; returns how many. */
  public int pollDue(long nowNanos, DueSend sink) {
    int count = 0;
    while (!exhausted()) {
      long intended = intendedNanos(next);
      if (intended > nowNanos) {
        break;
      }
      sink.send(next++, intended);
      count++;
    }
    return count;
  }

  /** True once every request of the run has been handed out. */
  public boolean exhausted() {
    return next >= maxRequests || intendedNanos(next) >= endNanos;
  }

  public long scheduled() {
    return next;
  }
}
