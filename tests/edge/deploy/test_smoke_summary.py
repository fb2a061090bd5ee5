"""The deploy's one line about the device's self-test, for each kind of smoke report."""
from edge.deploy.flow import smoke_summary


def test_a_classifier_smoke_says_its_largest_difference():
    assert smoke_summary({"max_abs_diff": 3.2e-9}) == "smoke max |diff| 3.20e-09"


def test_a_writer_smoke_counts_its_differences():
    assert smoke_summary({"mismatches": 0, "inputs": 120}) == "smoke 0 of 120 outputs differ from the host's"


def test_a_writer_with_an_lm_says_how_close_its_model_scored_the_hosts_essay():
    said = smoke_summary({"mismatches": 0, "inputs": 105, "written": 1, "max_logprob_diff": 0.00094, "tolerance": 0.5})
    assert said == ("smoke 0 of 105 outputs differ from the host's (1 written by the LM: its mean log-probability "
                    "of the host's essay within 0.00094 nats, tolerance 0.5)")
