package io.quiver.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PartitionTableTest {

  @Test
  void roundRobinSpreadsPartitionsEvenlyOverShardsSortedById() {
    PartitionTable.Assignment a = PartitionTable.Assignment.roundRobin(7L, 16, List.of(3, 1));
    assertThat(a.partitionsOf(1)).hasSize(8).contains(0, 2, 14);
    assertThat(a.partitionsOf(3)).hasSize(8).contains(1, 3, 15);
    assertThat(a.shards()).containsExactly(1, 3);
    for (int p = 0; p < 16; p++) {
      assertThat(a.epochOf(p)).isEqualTo(1L);
    }
  }

  @Test
  void assignmentNeedsALiveShard() {
    assertThatThrownBy(() -> PartitionTable.Assignment.roundRobin(7L, 4, List.of()))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void tableSurvivesItsJsonForm() {
    PartitionTable t = new PartitionTable(5, Map.of(9L, PartitionTable.Assignment.roundRobin(9L, 3, List.of(0, 1))));
    PartitionTable back = ClusterView.parseTable(ClusterView.tableJson(t));
    assertThat(back.version()).isEqualTo(5);
    assertThat(back.assignment(9L).owners()).containsExactly(0, 1, 0);
    assertThat(back.assignment(9L).epochs()).containsExactly(1L, 1L, 1L);
  }
}
