"""An example Python probe: anything pytest can do, recorded into slo.yaml's SLOs.

`target` is an httpx client bound to the service (base URL, headers, auth);
`recorder` feeds values declared under this probe in slo.yaml.
"""

import httpx
import pytest

from sloprobe import Recorder

READY_PATH = "%%READY_PATH%%"  # the first path slo.yaml's probes read


@pytest.mark.probe("example")
def test_example(target: httpx.Client, recorder: Recorder) -> None:
    with recorder.timer("seconds"):
        answer = target.get(READY_PATH)
    # 2xx only: a 404 means the path is wrong, not that the service is up.
    assert answer.is_success, f"GET {READY_PATH} answered {answer.status_code}"
