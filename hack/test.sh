#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: install, lint, type check, unit tests, and the tests
# on real local control planes (kube-apiserver + etcd + kube-controller-manager built from source).
# Ends with one line "N passed, N failed" counting every test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n== %s\n' "$*"; }

step "Node.js $(grep '^NODE_VERSION=' hack/versions.env | cut -d= -f2 | cut -d. -f1) (the machine's own when new enough, else from the npm registry, cached)"
PATH="$(bash hack/ensure-node.sh):$PATH"
export PATH
echo "node $(node --version)"

step "install npm dependencies"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi

step "build the local control plane (cached after the first run)"
bash hack/build-control-plane.sh

step "build the local node and install its Debian packages (cached after the first run)"
bash hack/build-node.sh
bash hack/node.sh install

step "lint and format"
npx eslint .
npx prettier --check .

step "Helm chart: lint and render (helm built from its Go module, cached after the first run)"
helm="$(bash hack/build-helm.sh)"
"$helm" lint --strict charts/secovia-operator
"$helm" template secovia-operator charts/secovia-operator --namespace secovia-system --include-crds >/dev/null

step "Lua interpreter for the Argo CD health check tests (Debian package lua5.4)"
command -v lua5.4 >/dev/null || { apt-get update -qq && apt-get install -y -qq lua5.4 >/dev/null; }

step "type check and build"
npx tsc -p tsconfig.json --noEmit
npm run --silent build

step "tests: unit and e2e on real control planes"
report="$(mktemp)"
set +e
# --forceExit: a leaked handle must never hang CI; suites stop what they start in afterAll.
node --experimental-vm-modules node_modules/jest/bin/jest.js --runInBand --forceExit --json --outputFile="$report" "$@"
status=$?
set -e
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed` +
    (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' "$report"
rm -f "$report"
exit "$status"
