package io.quiver.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The merge rule of the read-only copies: the highest version wins, everywhere, whatever the order. */
class ReadOnlyStateTest {
  private static final Instant T0 = Instant.parse("2026-11-20T10:00:00Z");

  private static Clock at(Instant t) {
    return Clock.fixed(t, ZoneOffset.UTC);
  }

  @Test
  void aChangeIsNewerThanTheCopyItWasMadeFromAndCarriesWhoWhyAndWhen() {
    ReadOnlyState on = ReadOnlyState.OFF.next(true, "disk migration", "ops", at(T0));
    assertThat(on.enabled()).isTrue();
    assertThat(on.reason()).isEqualTo("disk migration");
    assertThat(on.since()).isEqualTo("2026-11-20T10:00:00Z");
    assertThat(on.setBy()).isEqualTo("ops");
    assertThat(on.version()).isEqualTo(T0.toEpochMilli());
    assertThat(on.isNewerThan(ReadOnlyState.OFF)).isTrue();
    assertThat(ReadOnlyState.OFF.isNewerThan(on)).isFalse();
    assertThat(on.isNewerThan(on)).isFalse();
  }

  @Test
  void versionsStayMonotonicWhenTheSettersClockIsBehindTheCopyItSaw() {
    ReadOnlyState on = ReadOnlyState.OFF.next(true, "a", "ops", at(T0));
    ReadOnlyState off = on.next(false, "", "ops", at(T0.minusSeconds(3600)));
    assertThat(off.version()).isEqualTo(on.version() + 1);
    assertThat(ReadOnlyState.newest(on, off)).isEqualTo(off);
  }

  @Test
  void aSetterThatSawAnOlderCopyStillWinsWhenItActsLater() {
    // Shard A kept version v1 (on) while down; the cluster went on to v2 (off) without it; after a full
    // restart a gateway that only saw A's copy switches on again at a later time: that newest change wins.
    ReadOnlyState v1 = ReadOnlyState.OFF.next(true, "first", "ops", at(T0));
    ReadOnlyState v2 = v1.next(false, "", "ops", at(T0.plusSeconds(60)));
    ReadOnlyState v3 = v1.next(true, "again", "ops", at(T0.plusSeconds(120)));
    assertThat(v3.isNewerThan(v2)).isTrue();
    assertThat(ReadOnlyState.newest(v2, v3)).isEqualTo(v3);
  }

  @Test
  void sameVersionTiesPreferOnThenAreDecidedByTheRestOfTheState() {
    ReadOnlyState on = new ReadOnlyState(true, "x", "2026-11-20T10:00:00Z", "a", 5);
    ReadOnlyState off = new ReadOnlyState(false, "x", "2026-11-20T10:00:00Z", "a", 5);
    assertThat(ReadOnlyState.newest(on, off)).isEqualTo(on);
    assertThat(ReadOnlyState.newest(off, on)).isEqualTo(on);
    ReadOnlyState byB = new ReadOnlyState(true, "x", "2026-11-20T10:00:00Z", "b", 5);
    assertThat(ReadOnlyState.newest(on, byB)).isEqualTo(ReadOnlyState.newest(byB, on));
  }

  @Test
  void everyOrderOfMergingTheCopiesEndsOnTheSameWinner() {
    List<ReadOnlyState> copies = new ArrayList<>();
    ReadOnlyState s = ReadOnlyState.OFF;
    for (int i = 0; i < 6; i++) {
      s = s.next(i % 2 == 0, "r" + i, "ops", at(T0.plusMillis(i % 3)));
      copies.add(s);
    }
    copies.add(new ReadOnlyState(false, "tie", s.since(), "ops", s.version()));
    copies.add(ReadOnlyState.OFF);
    Random random = new Random(7);
    ReadOnlyState expected = null;
    for (int round = 0; round < 50; round++) {
      Collections.shuffle(copies, random);
      ReadOnlyState merged = ReadOnlyState.OFF;
      for (ReadOnlyState c : copies) {
        merged = ReadOnlyState.newest(merged, c);
      }
      if (expected == null) {
        expected = merged;
      }
      assertThat(merged).isEqualTo(expected);
    }
    assertThat(expected.version()).isEqualTo(s.version());
    assertThat(expected.reason()).as("same version and flag: decided by the reason").isEqualTo("tie");
  }

  @Test
  void jsonRoundTripKeepsEveryField() {
    ReadOnlyState on = ReadOnlyState.OFF.next(true, "backup \"nightly\"", "tenant-a", at(T0));
    assertThat(ReadOnlyFlag.fromJson(ReadOnlyFlag.toJson(on))).isEqualTo(on);
    assertThat(ReadOnlyFlag.fromJson(new io.vertx.core.json.JsonObject())).isEqualTo(ReadOnlyState.OFF);
  }

  @Test
  void theRefusalNamesTheReasonAndWhoSetIt() {
    ReadOnlyState on = ReadOnlyState.OFF.next(true, "disk migration", "ops", at(T0));
    assertThat(on.refusal()).isEqualTo(
        "the cluster is in read-only mode: disk migration (since 2026-11-20T10:00:00Z, set by ops)");
  }
}
