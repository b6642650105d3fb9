package io.quiver.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Collection set-up calls are retried while the cluster answers 503 or nothing, and only then. */
class SetupRetryTest {

  private static Reply replay(ArrayDeque<Reply> answers, AtomicInteger calls) {
    calls.incrementAndGet();
    return answers.size() > 1 ? answers.poll() : answers.peek();
  }

  @Test
  void retriesUnavailableAndNoAnswerUntilTheCallSucceeds() throws Exception {
    ArrayDeque<Reply> answers = new ArrayDeque<>(List.of(Reply.failure(503, "shard_unavailable", null),
        Reply.clientError(Reply.CONNECTION_ERROR), Reply.success(200, null)));
    AtomicInteger calls = new AtomicInteger();
    Reply r = ScenarioCommand.retryUnavailable(() -> replay(answers, calls));
    assertThat(r.ok()).isTrue();
    assertThat(calls).hasValue(3);
  }

  @Test
  void doesNotRetryAnAnswerThatRetryingCannotChange() throws Exception {
    for (Reply refusal : List.of(Reply.failure(409, "conflict", null), Reply.failure(400, "invalid_argument", null))) {
      AtomicInteger calls = new AtomicInteger();
      Reply r = ScenarioCommand.retryUnavailable(() -> replay(new ArrayDeque<>(List.of(refusal)), calls));
      assertThat(r).isEqualTo(refusal);
      assertThat(calls).hasValue(1);
    }
  }
}
