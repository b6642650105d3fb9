package io.quiver.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RebalancePlannerTest {

  private static PartitionTable table(PartitionTable.Assignment... assignments) {
    Map<Long, PartitionTable.Assignment> m = new HashMap<>();
    for (PartitionTable.Assignment a : assignments) {
      m.put(a.collectionUid(), a);
    }
    return new PartitionTable(1, m);
  }

  /** Applies the moves to the owners, as the coordinator would after each flip. */
  private static int[] after(PartitionTable.Assignment a, List<PartitionMove> moves) {
    int[] owners = a.owners().clone();
    for (PartitionMove m : moves) {
      assertThat(owners[m.partition()]).isEqualTo(m.from());
      owners[m.partition()] = m.to();
    }
    return owners;
  }

  private static long count(int[] owners, int shard) {
    return java.util.Arrays.stream(owners).filter(o -> o == shard).count();
  }

  @Test
  void aJoiningShardReceivesAnEvenShareAndNothingElseMoves() {
    PartitionTable.Assignment a = PartitionTable.Assignment.roundRobin(1, 12, List.of(0, 1));
    List<PartitionMove> moves = RebalancePlanner.plan(table(a), Set.of(0, 1, 2), Set.of(), Set.of(), 100);
    assertThat(moves).hasSize(4).allSatisfy(m -> {
      assertThat(m.to()).isEqualTo(2);
      assertThat(m.epoch()).isEqualTo(2);
      assertThat(m.state()).isEqualTo(PartitionMove.COPYING);
    });
    int[] owners = after(a, moves);
    assertThat(count(owners, 0)).isEqualTo(4);
    assertThat(count(owners, 1)).isEqualTo(4);
    assertThat(count(owners, 2)).isEqualTo(4);
  }

  @Test
  void unevenCountsDifferByAtMostOne() {
    PartitionTable.Assignment a = PartitionTable.Assignment.roundRobin(1, 16, List.of(0));
    int[] owners = after(a, RebalancePlanner.plan(table(a), Set.of(0, 1, 2), Set.of(), Set.of(), 100));
    assertThat(List.of(count(owners, 0), count(owners, 1), count(owners, 2))).containsExactlyInAnyOrder(6L, 5L, 5L);
  }

  @Test
  void aDrainingShardLosesEveryPartition() {
    PartitionTable.Assignment a = PartitionTable.Assignment.roundRobin(1, 12, List.of(0, 1, 2));
    int[] owners = after(a, RebalancePlanner.plan(table(a), Set.of(0, 1, 2), Set.of(2), Set.of(), 100));
    assertThat(count(owners, 2)).isZero();
    assertThat(count(owners, 0)).isEqualTo(6);
    assertThat(count(owners, 1)).isEqualTo(6);
  }

  @Test
  void aBalancedTableNeedsNoMove() {
    PartitionTable.Assignment a = PartitionTable.Assignment.roundRobin(1, 12, List.of(0, 1, 2));
    assertThat(RebalancePlanner.plan(table(a), Set.of(0, 1, 2), Set.of(), Set.of(), 100)).isEmpty();
  }

  @Test
  void nothingMovesWithoutItsOwner() {
    // Shard 1 is down: its partitions keep their owner, and the collection is left alone.
    PartitionTable.Assignment a = PartitionTable.Assignment.roundRobin(1, 12, List.of(0, 1));
    assertThat(RebalancePlanner.plan(table(a), Set.of(0, 2), Set.of(), Set.of(), 100)).isEmpty();
    PartitionTable.Assignment unknown = PartitionTable.Assignment.unknown(2, 4).withClaims(0, Map.of(0, 1L, 1, 1L));
    assertThat(RebalancePlanner.plan(table(unknown), Set.of(0, 1), Set.of(), Set.of(), 100)).isEmpty();
  }

  @Test
  void respectsTheLimitAndPartitionsAlreadyMoving() {
    PartitionTable.Assignment a = PartitionTable.Assignment.roundRobin(1, 12, List.of(0, 1));
    assertThat(RebalancePlanner.plan(table(a), Set.of(0, 1, 2), Set.of(), Set.of(), 2)).hasSize(2);
    List<PartitionMove> all = RebalancePlanner.plan(table(a), Set.of(0, 1, 2), Set.of(), Set.of(), 100);
    Set<String> moving = Set.of(all.get(0).key());
    assertThat(RebalancePlanner.plan(table(a), Set.of(0, 1, 2), Set.of(), moving, 100))
        .noneMatch(m -> m.key().equals(all.get(0).key()));
  }
}
