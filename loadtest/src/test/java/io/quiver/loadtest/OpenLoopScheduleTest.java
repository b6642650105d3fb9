package io.quiver.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OpenLoopScheduleTest {

  @Test
  void intendedTimesFollowTheRateFromTheStartWhateverTheCallerDoes() {
    OpenLoopSchedule s = new OpenLoopSchedule(1_000, 4, 0, 10); // every 250 ms
    List<long[]> sent = new ArrayList<>();
    assertThat(s.pollDue(1_000, (seq, t) -> sent.add(new long[] {seq, t}))).isEqualTo(1);
    assertThat(s.pollDue(1_000 + 999_999_999L, (seq, t) -> sent.add(new long[] {seq, t}))).isEqualTo(3);
    assertThat(sent).extracting(a -> a[1]).containsExactly(1_000L, 250_001_000L, 500_001_000L, 750_001_000L);
    assertThat(sent).extracting(a -> a[0]).containsExactly(0L, 1L, 2L, 3L);
  }

  @Test
  void stopsAtTheRequestCountOrTheDuration() {
    OpenLoopSchedule byCount = new OpenLoopSchedule(0, 1000, 0, 3);
    assertThat(byCount.pollDue(Long.MAX_VALUE / 2, (seq, t) -> { })).isEqualTo(3);
    assertThat(byCount.exhausted()).isTrue();

    OpenLoopSchedule byTime = new OpenLoopSchedule(0, 1000, 5_000_000, 0); // 5 ms at 1/ms
    assertThat(byTime.pollDue(1_000_000_000, (seq, t) -> { })).isEqualTo(5);
    assertThat(byTime.exhausted()).isTrue();
  }

  @Test
  void refusesAnUnboundedOrRatelessRun() {
    assertThatThrownBy(() -> new OpenLoopSchedule(0, 10, 0, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new OpenLoopSchedule(0, 0, 1, 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
