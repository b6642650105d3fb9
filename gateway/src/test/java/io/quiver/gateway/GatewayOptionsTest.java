package io.quiver.gateway;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GatewayOptionsTest {
  @Test
  void defaultsAreValidAndOpen() {
    assertThatCode(() -> new GatewayOptions().validate()).doesNotThrowAnyException();
  }

  @Test
  void settersRefuseValuesOutOfRange() {
    assertThatThrownBy(() -> new GatewayOptions().authMode("basic")).hasMessageContaining("auth mode");
    assertThatThrownBy(() -> new GatewayOptions().tenantRateLimitRps(-1)).hasMessageContaining("tenant rate limit");
    assertThatThrownBy(() -> new GatewayOptions().maxInFlight(-5)).hasMessageContaining("in-flight");
    assertThatThrownBy(() -> new GatewayOptions().breakerFailureRate(0)).hasMessageContaining("failure rate");
    assertThatThrownBy(() -> new GatewayOptions().jwtSecret("short")).hasMessageContaining("32");
    assertThatThrownBy(() -> new GatewayOptions().apiKeys("k:t:root")).hasMessageContaining("root");
  }

  @Test
  void validateNamesTheMissingCompanionSetting() {
    assertThatThrownBy(() -> new GatewayOptions().authMode("api_key").validate()).hasMessageContaining("QUIVER_API_KEYS");
    assertThatThrownBy(() -> new GatewayOptions().authMode("jwt").validate()).hasMessageContaining("QUIVER_JWT_SECRET");
    assertThatThrownBy(() -> new GatewayOptions().tlsCertPath("/c.pem").validate()).hasMessageContaining("QUIVER_TLS_KEY");
    assertThatThrownBy(() -> new GatewayOptions().breakerMinCalls(30).breakerWindow(20).validate())
        .hasMessageContaining("window");
  }
}
