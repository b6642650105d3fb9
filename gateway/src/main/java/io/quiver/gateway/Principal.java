package io.quiver.gateway;

import java.util.Set;

/** An authenticated caller: the tenant whose collections it sees and the scopes it holds. Immutable. */
public record Principal(String tenant, Set<Scope> scopes) {
  public Principal {
    scopes = Set.copyOf(scopes);
  }

  public boolean has(Scope scope) {
    return scopes.contains(scope);
  }
}
