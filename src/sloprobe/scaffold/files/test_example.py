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
    assert answer.status_code < 500, f"{READY_PATH} answered {answer.status_code}"
