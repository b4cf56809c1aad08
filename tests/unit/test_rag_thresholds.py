"""The rung of a ladder of thresholds an amount falls on is read from the digits, in any
language; where the digits do not single one sentence out, there is no rule."""

from agents.rag.thresholds import rule_for, rules

LADDER_DE = (
    "Geschenke bis 150 EUR dürfen ohne Genehmigung angenommen werden. Über 150 EUR und bis "
    "500 EUR genehmigt die Führungskraft. Über 500 EUR muss Compliance vorher zustimmen."
)


def test_a_german_ladder_gives_the_rung_each_amount_falls_on():
    assert rule_for(80, LADDER_DE).startswith("Geschenke bis 150 EUR")
    assert rule_for(300, LADDER_DE).startswith("Über 150 EUR und bis 500 EUR")
    assert rule_for(2_000, LADDER_DE) == "Über 500 EUR muss Compliance vorher zustimmen."


def test_an_amount_written_as_people_chat_counts_at_its_value():
    assert rules("Darf ich ein Geschenk für 0.3k annehmen?", LADDER_DE) == [
        ("0.3k", "Über 150 EUR und bis 500 EUR genehmigt die Führungskraft.")
    ]


def test_a_single_rule_is_no_ladder():
    assert rule_for(800, "Payouts above 500 EUR are reviewed by hand.") is None


def test_bounds_stated_in_different_sentences_give_no_rule():
    text = "Payouts above 50,000 EUR take a day longer. Payouts of 250,000 EUR need a call-back."
    assert rule_for(80_000, text) is None


def test_two_sentences_alike_give_no_rule():
    text = "Trades above 10,000 EUR need a manager. Transfers above 10,000 EUR need a call-back."
    assert rule_for(25_000, text) is None
