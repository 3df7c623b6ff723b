#!/bin/sh
# Installs aso-core and the plugins named in ASO_PLUGINS (space-separated directory names under
# plugins/) from the source tree at $1 into the current Python, then removes the local backends
# (aso.sandbox: ARM emulator, Kubernetes API server) and the test kit (aso.testing): an operator
# image has no use for them. The Dockerfile runs exactly this; tests/production/test_image.py runs
# it in a fresh venv.
set -eu
src="$1"
set -- "$src/core"
for plugin in ${ASO_PLUGINS:-resources}; do
    set -- "$@" "$src/plugins/$plugin"
done
python -m pip install --no-cache-dir --disable-pip-version-check "$@"
package=$(python -c 'import aso, os; print(os.path.dirname(aso.__file__))')
rm -rf "$package/sandbox" "$package/testing"
python -m pip uninstall -y -q pip setuptools wheel 2>/dev/null || true
