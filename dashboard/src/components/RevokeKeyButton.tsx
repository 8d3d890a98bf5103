// Revoking a key from the dashboard: the mutation (with the dashboard's reason) and the Revoke
// button with its confirmation.
import { useMutation } from "urql";
import { graphql } from "../gql/index.ts";
import { ConfirmButton } from "./ui.tsx";

export const RevokeKey = graphql(`
  mutation DashboardRevokeKey($id: ID!, $reason: String) {
    revokeKey(id: $id, reason: $reason) {
      id
      status
      revokedAt
    }
  }
`);

/** Revokes a key by id, giving "revoked in the dashboard" as the reason. */
export function useRevokeKey() {
  const [, revoke] = useMutation(RevokeKey);
  return (id: string) => revoke({ id, reason: "revoked in the dashboard" });
}

/** "Revoke", then a dialog "Revoke <name>?"; `masked` names the key in the warning ("it" if absent). */
export function RevokeKeyButton({
  name,
  masked,
  onConfirm,
}: {
  name: string;
  masked?: string;
  onConfirm: () => Promise<unknown> | unknown;
}) {
  return (
    <ConfirmButton
      label="Revoke"
      title={`Revoke ${name}?`}
      body={<p>The very next request with {masked ?? "it"} fails. This cannot be undone.</p>}
      confirmLabel="Revoke key"
      onConfirm={onConfirm}
    />
  );
}
