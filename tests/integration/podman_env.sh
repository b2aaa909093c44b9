# Names of the podman test environment (sourced by podman_harness.sh and
# podman_lib.sh). Everything is keyed by LNST_TEST_PODMAN_ID (CMake sets it
# from the build directory), so test runs of several build trees at the same
# time do not stop each other's services or remove each other's images.
PODMAN_TEST_ID=${LNST_TEST_PODMAN_ID:-default}
STATE=/run/lnst-test-podman-$PODMAN_TEST_ID
SOCK=/run/lnst-test-podman-$PODMAN_TEST_ID.sock
CNI_SOCK=/run/lnst-test-podman-$PODMAN_TEST_ID-cni.sock
AGENT_IMAGE=localhost/lnst-test-agent-$PODMAN_TEST_ID:latest
CONTROLLER_IMAGE=localhost/lnst-test-controller-$PODMAN_TEST_ID:latest
BROKEN_IMAGE=localhost/lnst-test-broken-$PODMAN_TEST_ID:latest
SILENT_IMAGE=localhost/lnst-test-silent-$PODMAN_TEST_ID:latest
# the runs' directories and the cni service's conflists
export LNST_PODMAN_RUN_DIR=$STATE/runs
export LNST_CNI_DIR=$STATE/cni.d
