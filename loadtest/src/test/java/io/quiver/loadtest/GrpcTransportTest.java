package io.quiver.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import io.quiver.proto.v1.Point;
import io.quiver.proto.v1.UpsertPointsRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The hand-encoded UpsertPoints body and the status mapping of {@link GrpcTransport}. */
class GrpcTransportTest {

  @Test
  void handEncodedUpsertPointsParsesAsTheSameMessageTheBuildersMake() throws Exception {
    JsonObject payload = new JsonObject().put("label", 3).put("name", "x").put("ok", true)
        .put("tags", new JsonArray().add("a").add(2.5)).put("nested", new JsonObject().put("k", "v"));
    List<Transport.Point> points = List.of(
        new Transport.Point(0, new float[] {0f, -1.5f, Float.MIN_VALUE}, null),
        new Transport.Point(-1L, new float[] {1f, 2f, 3f}, payload), // id 2^64-1
        new Transport.Point(300, new float[0], new JsonObject()));

    byte[] bytes = GrpcTransport.encodeUpsertPoints("bench", points);

    UpsertPointsRequest expected = UpsertPointsRequest.newBuilder().setCollection("bench")
        .addPoints(Point.newBuilder().setId(0).addValues(0f).addValues(-1.5f).addValues(Float.MIN_VALUE))
        .addPoints(Point.newBuilder().setId(-1L).addValues(1f).addValues(2f).addValues(3f)
            .setPayload(GrpcTransport.struct(payload)))
        .addPoints(Point.newBuilder().setId(300).setPayload(GrpcTransport.struct(new JsonObject())))
        .build();
    assertThat(UpsertPointsRequest.parseFrom(bytes)).isEqualTo(expected);
    assertThat(bytes).isEqualTo(expected.toByteArray());
    assertThat(GrpcTransport.struct(payload).getFieldsOrThrow("label").getNumberValue()).isEqualTo(3.0);
  }

  @Test
  void statusMessagesMapToTheQuiverCodeAndItsHttpStatus() {
    Reply invalid = GrpcTransport.failure(GrpcStatus.INVALID_ARGUMENT, "invalid_argument values has 3 values");
    assertThat(invalid.status()).isEqualTo(400);
    assertThat(invalid.code()).isEqualTo("invalid_argument");
    Reply overloaded = GrpcTransport.failure(GrpcStatus.UNAVAILABLE, "overloaded too many requests");
    assertThat(overloaded.status()).isEqualTo(503);
    assertThat(overloaded.code()).isEqualTo("overloaded");
    Reply deadline = GrpcTransport.failure(GrpcStatus.DEADLINE_EXCEEDED, null);
    assertThat(deadline.code()).isEqualTo(Reply.CLIENT_TIMEOUT);
    Reply other = GrpcTransport.failure(GrpcStatus.UNIMPLEMENTED, "no such method");
    assertThat(other.ok()).isFalse();
    assertThat(other.code()).isEqualTo("grpc_unimplemented");
  }
}
