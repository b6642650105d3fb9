package io.quiver.cluster;

import java.time.Clock;
import java.time.Instant;
import java.util.Comparator;
import java.util.Objects;

/**
 * The operator read-only mode of the whole cluster (DESIGN.md "Read-only mode"): whether it is on,
 * why, since when (ISO-8601), who set it, and the version of the change that produced it. Immutable;
 * the same value lives in Hazelcast and in every shard's metadata file.
 *
 * <h2>When copies disagree</h2>
 * Copies can differ after a partition or a restart of the whole cluster (a shard that was down
 * during a toggle kept the older one). The rule, applied everywhere a copy meets another
 * ({@link #newest}): <b>the higher {@code version} wins</b>. A change takes version
 * {@code max(current.version + 1, now in epoch milliseconds)} ({@link #next}): always above the
 * copy the setter saw, and above any change made earlier by a setter that saw other copies, as long
 * as clocks do not run backwards by more than the time between two toggles. Two changes with the
 * same version (two setters in the same millisecond) are ordered by {@code enabled} (on beats off:
 * when in doubt, stay frozen), then {@code since}, {@code set_by} and {@code reason}, so every
 * process picks the same winner. {@link #OFF} (version 0) is what a fresh cluster starts from and
 * loses to every change.
 */
public record ReadOnlyState(boolean enabled, String reason, String since, String setBy, long version) {

  /** Never set: writable, version 0. */
  public static final ReadOnlyState OFF = new ReadOnlyState(false, "", "", "", 0);

  /** The total order of {@link #newest}: version, then on before off, then the strings. */
  private static final Comparator<ReadOnlyState> ORDER = Comparator.comparingLong(ReadOnlyState::version)
      .thenComparing(ReadOnlyState::enabled)
      .thenComparing(ReadOnlyState::since)
      .thenComparing(ReadOnlyState::setBy)
      .thenComparing(ReadOnlyState::reason);

  public ReadOnlyState {
    reason = Objects.requireNonNullElse(reason, "");
    since = Objects.requireNonNullElse(since, "");
    setBy = Objects.requireNonNullElse(setBy, "");
    if (version < 0) {
      throw new IllegalArgumentException("read-only version must not be negative: " + version);
    }
  }

  /** The change an operator asks for, on top of {@code this} (the copy the setter saw). */
  public ReadOnlyState next(boolean enable, String why, String by, Clock clock) {
    Instant now = clock.instant();
    return new ReadOnlyState(enable, why, now.toString(), by, Math.max(version + 1, now.toEpochMilli()));
  }

  /** Whether {@code this} wins over {@code other} (see the class comment); a copy never wins over itself. */
  public boolean isNewerThan(ReadOnlyState other) {
    return ORDER.compare(this, other) > 0;
  }

  /** The winner of two copies. */
  public static ReadOnlyState newest(ReadOnlyState a, ReadOnlyState b) {
    return b.isNewerThan(a) ? b : a;
  }

  /** The error message a refused write carries. */
  public String refusal() {
    return "the cluster is in read-only mode" + (reason.isEmpty() ? "" : ": " + reason)
        + (since.isEmpty() ? "" : " (since " + since + (setBy.isEmpty() ? "" : ", set by " + setBy) + ")");
  }
}
