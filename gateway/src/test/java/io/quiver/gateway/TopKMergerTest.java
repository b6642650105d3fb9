package io.quiver.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class TopKMergerTest {

  private static TopKMerger.Hit hit(long id, float value) {
    return new TopKMerger.Hit(id, value, null);
  }

  @Test
  void mergesShardListsByScoreHigherFirstForDot() {
    List<TopKMerger.Hit> merged = TopKMerger.merge(List.of(
        List.of(hit(1, 0.9f), hit(2, 0.5f)),
        List.of(hit(3, 0.8f), hit(4, 0.1f))), 3, true);
    assertThat(merged).extracting(TopKMerger.Hit::id).containsExactly(1L, 3L, 2L);
  }

  @Test
  void mergesByDistanceLowerFirstForL2() {
    List<TopKMerger.Hit> merged = TopKMerger.merge(List.of(
        List.of(hit(1, 0.9f), hit(2, 2.0f)),
        List.of(hit(3, 0.1f))), 2, false);
    assertThat(merged).extracting(TopKMerger.Hit::id).containsExactly(3L, 1L);
  }

  @Test
  void breaksTiesByIdAscendingUnsigned() {
    long big = -1L; // 2^64-1 sorts after every other id
    List<TopKMerger.Hit> merged = TopKMerger.merge(List.of(
        List.of(hit(big, 1f), hit(7, 1f)),
        List.of(hit(5, 1f), hit(Long.MAX_VALUE, 1f))), 4, true);
    assertThat(merged).extracting(TopKMerger.Hit::id).containsExactly(5L, 7L, Long.MAX_VALUE, big);
  }

  @Test
  void listsAPointOnceWhenTwoShardsAnswerForItDuringAMove() {
    List<TopKMerger.Hit> merged = TopKMerger.merge(List.of(
        List.of(hit(7, 0.1f), hit(2, 0.5f)),
        List.of(hit(7, 0.1f), hit(3, 0.7f), hit(4, 0.9f))), 3, false);
    assertThat(merged).extracting(TopKMerger.Hit::id).containsExactly(7L, 2L, 3L);
  }

  @Test
  void returnsFewerThanKWhenShardsHoldFewer() {
    assertThat(TopKMerger.merge(List.of(List.of(hit(1, 1f)), List.of()), 10, true)).hasSize(1);
    assertThat(TopKMerger.merge(List.of(), 10, true)).isEmpty();
  }
}
