#!/usr/bin/env bash
# Keep a GitHub Actions OIDC token (audience api://AzureADTokenExchange) in a file, for kubelogin's
# `workloadidentity` login mode (it reads AZURE_FEDERATED_TOKEN_FILE on every token request).
#
# Why a file that is kept fresh: GitHub's ID tokens are short-lived (minutes), while one `pulumi up`
# of this program can run for an hour (APIM). The Kubernetes provider calls kubelogin whenever its
# Entra token expires, and each call exchanges whatever token is in the file at that moment. A file
# written once would hold an expired assertion by then (AADSTS700024, see Azure/login#180 and #372,
# the same failure `azure/login` + kubelogin `azurecli` mode hits in long jobs).
#
# Usage: oidc-token-file.sh <token-file> [refresh-seconds]
#   Fetches once (fails loudly if it cannot), then, when refresh-seconds > 0, keeps refreshing the
#   file in the background until the job ends. The token is never printed.
set -euo pipefail

token_file="${1:?usage: oidc-token-file.sh <token-file> [refresh-seconds]}"
refresh_seconds="${2:-0}"

if [ -z "${ACTIONS_ID_TOKEN_REQUEST_URL:-}" ] || [ -z "${ACTIONS_ID_TOKEN_REQUEST_TOKEN:-}" ]; then
  echo "::error::No GitHub OIDC token endpoint: the job needs 'permissions: id-token: write'" \
    "(fork pull requests never get one)." >&2
  exit 1
fi

fetch() {
  local tmp
  tmp="$(mktemp "${token_file}.XXXXXX")"
  # -G appends the audience to the URL's existing query string (it already has ?api-version=...).
  if curl --fail --silent --show-error --retry 3 --max-time 30 -G \
      -H "Authorization: bearer ${ACTIONS_ID_TOKEN_REQUEST_TOKEN}" \
      --data-urlencode "audience=api://AzureADTokenExchange" \
      "${ACTIONS_ID_TOKEN_REQUEST_URL}" | jq -er '.value' >"$tmp"; then
    chmod 600 "$tmp"
    mv -f "$tmp" "$token_file" # atomic: kubelogin never reads a half-written token
  else
    rm -f "$tmp"
    return 1
  fi
}

fetch

if [ "$refresh_seconds" -gt 0 ]; then
  # Orphaned on purpose: it outlives this step and is killed with the job's other processes. Its
  # output goes to a log file, not the step's pipes, so the step does not wait for it.
  (
    while sleep "$refresh_seconds"; do
      fetch || echo "$(date -u +%FT%TZ) could not refresh the token file; retrying in ${refresh_seconds}s"
    done
  ) >>"${token_file}.log" 2>&1 </dev/null &
fi
