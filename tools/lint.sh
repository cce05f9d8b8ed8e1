#!/usr/bin/env bash
# The house rules CI checks (DESIGN §8), besides the compiler's warnings:
#   - swift-format with the checked-in .swift-format (lines ≤ 120 columns);
#   - no `default:` branch in the coordinator's, worker's and handshake's switches (a new message must be
#     handled everywhere on purpose, so the compiler has to list every place);
#   - no force-unwrap and no `try!` in the coordinator's and worker's production code (a broken invariant must
#     fail one job with `internal`, not take down the only coordinator).
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

if ! swift format lint --strict --recursive --parallel Sources Tests Package.swift; then
    echo "lint: swift-format found the problems above (fix with: swift format format -i -r Sources Tests Package.swift)" >&2
    status=1
fi

exhaustive=(Sources/PixelFlowCoordinator/Connection Sources/PixelFlowCoordinator/Cluster Sources/PixelFlowCoordinator/Scheduling
    Sources/PixelFlowCoordinator/Jobs Sources/PixelFlowCoordinator/Usage Sources/PixelFlowCoordinator/Server/Coordinator.swift
    Sources/PixelFlowCoordinator/Server/Coordinator+Requests.swift
    Sources/PixelFlowCoordinator/Server/CoordinatorConnectionHandler.swift Sources/PixelFlowWorker
    Sources/PixelFlowProtocol/Handshake)
if grep -rnE '^\s*default\s*:' "${exhaustive[@]}"; then
    echo "lint: a 'default:' branch above; list the cases" >&2
    status=1
fi

# An identifier, `)` or `]` directly followed by `!` that is not `!=`: a force-unwrap (or `try!`). Comments skipped.
if grep -rnE '([A-Za-z0-9_)\]]|try)!([^=]|$)' Sources/PixelFlowCoordinator Sources/PixelFlowWorker Sources/PixelFlowStore | grep -vE '^[^:]+:[0-9]+:\s*//'; then
    echo "lint: a force-unwrap or try! above in coordinator/worker/store production code" >&2
    status=1
fi
exit $status
