package io.quiver.cluster;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Plans partition moves so that, for every collection, each live shard that is not draining owns an
 * even share of its partitions (the counts differ by at most one), and draining shards own none.
 * A collection with a partition whose owner is unknown or down is left alone: nothing is moved
 * without its data. Partitions already moving are left alone. Pure function; thread-safe.
 */
public final class RebalancePlanner {
  private RebalancePlanner() {}

  /**
   * @param table     the current partition table
   * @param live      live shards able to own partitions (registered and ready)
   * @param draining  shards to empty
   * @param moving    keys ({@code uid/partition}) of partitions already moving
   * @param limit     at most this many moves
   */
  public static List<PartitionMove> plan(PartitionTable table, Set<Integer> live, Set<Integer> draining, Set<String> moving,
      int limit) {
    List<Integer> targets = live.stream().filter(s -> !draining.contains(s)).sorted().toList();
    List<PartitionMove> out = new ArrayList<>();
    if (targets.isEmpty()) {
      return out;
    }
    List<Long> uids = table.assignments().keySet().stream().sorted().toList();
    for (long uid : uids) {
      PartitionTable.Assignment a = table.assignment(uid);
      boolean movable = true;
      for (int owner : a.owners()) {
        movable &= owner != PartitionTable.Assignment.UNKNOWN_OWNER && live.contains(owner);
      }
      if (!movable) {
        continue;
      }
      int n = a.owners().length;
      Map<Integer, List<Integer>> byShard = new TreeMap<>();
      targets.forEach(t -> byShard.put(t, new ArrayList<>()));
      List<Integer> homeless = new ArrayList<>();
      for (int p = 0; p < n; p++) {
        if (moving.contains(uid + "/" + p)) {
          continue;
        }
        List<Integer> held = byShard.get(a.ownerOf(p));
        if (held == null) {
          homeless.add(p); // on a draining shard
        } else {
          held.add(p);
        }
      }
      // Quotas: floor(n/k) each, and one more for the shards that already hold the most.
      int k = targets.size();
      List<Integer> order = new ArrayList<>(targets);
      order.sort(Comparator.comparingInt((Integer t) -> -byShard.get(t).size()).thenComparing(t -> t));
      Map<Integer, Integer> quota = new TreeMap<>();
      for (int i = 0; i < k; i++) {
        quota.put(order.get(i), n / k + (i < n % k ? 1 : 0));
      }
      for (int t : targets) {
        List<Integer> held = byShard.get(t);
        while (held.size() > quota.get(t)) {
          homeless.add(held.remove(held.size() - 1));
        }
      }
      for (int p : homeless) {
        int to = targets.stream().filter(t -> byShard.get(t).size() < quota.get(t)).findFirst().orElse(-1);
        if (to < 0 || out.size() >= limit) {
          break;
        }
        byShard.get(to).add(p);
        out.add(new PartitionMove(uid, p, a.ownerOf(p), to, a.epochOf(p) + 1, PartitionMove.COPYING));
      }
      if (out.size() >= limit) {
        break;
      }
    }
    return out;
  }
}
