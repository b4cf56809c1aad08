"""Write the PDF and DOCX documents of the tuning set, `golden/docs_tuning/`.

The tuning set is a fictional firm's documents (Harbourline Securities Ltd: two policies with
numbered clauses, a terms addendum, rate cards, an FAQ and an operational note) and the questions
over them in `golden/docs_tuning.jsonl`, for developing the document-answering agent. The firm,
its people and its figures are invented. The Markdown and HTML documents are written by hand in
that folder; this script writes the two policy PDFs (fpdf2, core font Helvetica) and the terms
addendum DOCX (python-docx) from the text below, with fixed dates so the output is the same on
every run:

    python -m evals.write_tuning_docs
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from docx import Document
from fpdf import FPDF

TUNING_DOCS = Path(__file__).resolve().parent / "golden" / "docs_tuning"
FIXED_DATE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

# A policy: its title, the lines under the title, then (heading, [(clause number, text)]).
Section = tuple[str, list[tuple[str, str]]]

BEST_EXECUTION_TITLE = "Best Execution and Order Handling Policy"
BEST_EXECUTION_HEADER = [
    "Harbourline Securities Ltd - Policy HS-COMP-014, version 3.2",
    "Effective date: 1 March 2026. Approved by the Executive Risk Committee on 12 February 2026.",
    "Policy owner: Priya Raman, Head of Trading Operations.",
]
BEST_EXECUTION: list[Section] = [
    (
        "1. Purpose and Scope",
        [
            (
                "1.1",
                'This policy sets out how Harbourline Securities Ltd ("Harbourline") takes all '
                "sufficient steps to obtain the best possible result for its clients when it "
                "executes orders in equities, exchange-traded funds, listed bonds and "
                "crypto-assets.",
            ),
            (
                "1.2",
                "The policy applies to orders of retail and professional clients. It does not "
                "apply to eligible counterparties: Harbourline deals with them on a "
                "request-for-quote basis under separate terms of business.",
            ),
            (
                "1.3",
                "The Head of Trading Operations owns this policy. It is reviewed at least once "
                "every 12 months and whenever a venue is added or removed.",
            ),
        ],
    ),
    (
        "2. Execution Factors",
        [
            (
                "2.1",
                "For retail clients the best possible result is measured by total consideration: "
                "the price of the instrument plus all costs of execution, including venue, "
                "clearing and settlement fees.",
            ),
            (
                "2.2",
                "For professional clients Harbourline weighs price, costs, speed, likelihood of "
                "execution and settlement, size and the nature of the order. Price carries the "
                "most weight, except for orders in bonds with fewer than two quotes a day, where "
                "likelihood of execution ranks first.",
            ),
        ],
    ),
    (
        "3. Order Routing",
        [
            (
                "3.1",
                "Equity and ETF orders up to 250,000 EUR notional are sent to the smart order "
                "router, which chooses the venue offering the best total consideration at the "
                "moment of routing.",
            ),
            (
                "3.2",
                "Orders above 250,000 EUR notional are routed to the block desk and worked "
                'manually, except orders in the 50 most liquid EU equities (the "Core 50" '
                "list, published on the client portal), which stay on the smart order router up "
                "to 1,000,000 EUR notional.",
            ),
            (
                "3.3",
                "Crypto-asset orders are executed against Harbourline's liquidity providers. "
                "Orders above 100,000 USD equivalent are split into child orders of no more than "
                "25,000 USD each, unless the client has asked for immediate execution in full.",
            ),
            (
                "3.4",
                "Bond orders are executed by request for quote to at least three dealers. Where "
                "fewer than three dealers quote, the trader records the reason in the order log "
                "before executing.",
            ),
        ],
    ),
    (
        "4. Order Handling",
        [
            (
                "4.1",
                "Client orders are executed promptly and in the sequence in which they are "
                "received. Comparable orders may be aggregated only where aggregation is unlikely "
                "to work to the disadvantage of any client whose order is aggregated.",
            ),
            (
                "4.2",
                "A client limit order that cannot be executed immediately is made public on a "
                "venue, unless the order is above 500,000 EUR notional or the client instructs "
                "otherwise.",
            ),
            (
                "4.3",
                "Market orders received outside a venue's trading hours are queued and sent at "
                "the next opening auction. Stop orders are not accepted for crypto-assets with an "
                "average daily traded volume below 2,000,000 USD.",
            ),
            (
                "4.4",
                "Good-till-cancelled orders expire after 90 calendar days. A partly filled order "
                "keeps its original expiry date.",
            ),
        ],
    ),
    (
        "5. Execution Errors",
        [
            (
                "5.1",
                "Any member of staff who finds an execution error must report it to Trading "
                "Operations within 30 minutes of discovery, whether or not the client has "
                "noticed it.",
            ),
            (
                "5.2",
                "A correction that costs less than 1,000 EUR is approved by the desk head. From "
                "1,000 EUR up to 10,000 EUR it needs the Head of Trading Operations. Above "
                "10,000 EUR the Chief Risk Officer approves the correction, and the case is "
                "reported to Compliance on the same business day.",
            ),
            (
                "5.3",
                "A loss caused by a Harbourline error is borne by Harbourline. A gain caused by "
                "an error stays with the client.",
            ),
        ],
    ),
    (
        "6. Monitoring and Review",
        [
            (
                "6.1",
                "Compliance checks a sample of at least 5% of executed client orders each month "
                "against the prices available on other venues at the time of execution.",
            ),
            (
                "6.2",
                "Harbourline publishes its top five execution venues for each class of "
                "instrument once a year, by 30 April.",
            ),
            (
                "6.3",
                "A client may ask how a particular order was executed. Harbourline answers such "
                "a request within 10 business days.",
            ),
        ],
    ),
]

PAD_TITLE = "Conflicts of Interest and Personal Account Dealing Policy"
PAD_HEADER = [
    "Harbourline Securities Ltd - Policy HS-COMP-021, version 2.0",
    "Effective date: 15 January 2026. For internal use by staff.",
    "Policy owner: Tomasz Wierzbicki, Chief Compliance Officer.",
]
PAD: list[Section] = [
    (
        "1. Who This Policy Covers",
        [
            (
                "1.1",
                "This policy applies to all employees and directors of Harbourline, to "
                "contractors engaged for more than three months, and to their connected persons: "
                "a spouse or civil partner, dependent children, and anyone who has shared the "
                "same household for at least one year.",
            ),
            (
                "1.2",
                "Transactions in UCITS funds, in government bonds of EEA states, and in "
                "discretionary managed accounts over which the employee has no influence are "
                "exempt from pre-clearance. They must still be listed in the annual holdings "
                "statement.",
            ),
        ],
    ),
    (
        "2. Conflicts Register and Gifts",
        [
            (
                "2.1",
                "Any actual or potential conflict of interest must be entered in the Conflicts "
                "Register within 5 business days of being identified. The Conflicts Committee "
                "reviews the register every quarter.",
            ),
            (
                "2.2",
                "A gift worth up to 150 EUR may be accepted without approval but must be logged "
                "in the Conflicts Register. A gift worth more than 150 EUR and up to 500 EUR "
                "needs the approval of the line manager. A gift worth more than 500 EUR needs "
                "the approval of Compliance before it is accepted.",
            ),
            (
                "2.3",
                "Cash, vouchers and other cash equivalents are never accepted, whatever their "
                "value.",
            ),
        ],
    ),
    (
        "3. Pre-clearance of Personal Trades",
        [
            (
                "3.1",
                "Every personal trade in listed securities, derivatives or crypto-assets must be "
                "pre-cleared through the PAD portal before the order is placed.",
            ),
            (
                "3.2",
                "Approval depends on the value of the trade. Up to 10,000 EUR, a Compliance "
                "analyst approves. Above 10,000 EUR and up to 50,000 EUR, both a Compliance "
                "analyst and the employee's line manager approve. Above 50,000 EUR, the Chief "
                "Compliance Officer approves.",
            ),
            (
                "3.3",
                "A pre-clearance for listed securities is valid until the close of the next "
                "business day. A pre-clearance for crypto-assets is valid for 4 hours.",
            ),
            (
                "3.4",
                "No member of staff may trade an instrument on the Restricted List, whatever the "
                "amount and whoever would approve it.",
            ),
        ],
    ),
    (
        "4. Holding Period",
        [
            (
                "4.1",
                "Positions in listed securities must be held for at least 30 calendar days, and "
                "positions in crypto-assets for at least 60 calendar days.",
            ),
            (
                "4.2",
                "The holding period does not apply where a sale is forced by a corporate event, "
                "such as a takeover or a delisting, or by a margin call from a third-party "
                "broker.",
            ),
            (
                "4.3",
                "Any profit on a position closed in breach of the holding period is paid to a "
                "charity chosen by Compliance.",
            ),
        ],
    ),
    (
        "5. Reporting",
        [
            (
                "5.1",
                "Staff must upload the contract note or broker statement of every personal trade "
                "to the PAD portal within 10 business days of the trade.",
            ),
            (
                "5.2",
                "Every member of staff confirms their holdings in the annual holdings statement, "
                "due by 31 January each year.",
            ),
            (
                "5.3",
                "New joiners disclose all their holdings and brokerage accounts within 14 "
                "calendar days of their start date.",
            ),
        ],
    ),
    (
        "6. Breaches",
        [
            (
                "6.1",
                "A first breach of this policy leads to a written warning. A second breach within "
                "24 months suspends the employee's personal dealing for 6 months and is referred "
                "to Human Resources.",
            ),
        ],
    ),
]

ADDENDUM_TITLE = "Client Terms Addendum: Staking and Interest on Cash"
ADDENDUM_INTRO = (
    "Addendum No. 4 to the Harbourline Client Agreement. Effective 1 April 2026. Words defined in "
    "the Client Agreement have the same meaning here. Where this addendum and the Client "
    "Agreement differ, this addendum applies to the services it describes."
)
ADDENDUM: list[tuple[str, list[str]]] = [
    (
        "1. Who Can Use These Services",
        [
            "This addendum applies to retail and professional clients holding a Harbourline "
            "Account in good standing.",
            "The Staking Service does not apply to residents of the United States, Canada or "
            "Singapore; clients who move to one of these countries must unstake within 30 days "
            "of telling us about the move.",
            "Clients resident in the Netherlands may use the Staking Service but not Interest on "
            "Cash.",
        ],
    ),
    (
        "2. Interest on Cash",
        [
            "We pay interest on uninvested EUR cash at the ECB deposit facility rate minus 1.25 "
            "percentage points, and never below 0%. Interest accrues daily and is paid on the "
            "first business day of each month.",
            "Interest is paid on the first 100,000 EUR of a client's uninvested cash only; any "
            "amount above 100,000 EUR earns no interest. A daily balance below 10 EUR earns no "
            "interest.",
            "Cash held as margin collateral earns no interest. Accounts of legal entities do not "
            "earn interest unless they are on the Professional Plus plan.",
        ],
    ),
    (
        "3. Staking Service",
        [
            "Clients may stake ETH, SOL, ADA and DOT held in their Harbourline Account. Staked "
            "assets remain the client's property and are held in segregated wallets.",
            "Harbourline keeps a commission of 25% of the rewards earned. Where the client's "
            "staked assets are worth more than 50,000 EUR on the day rewards are paid, the "
            "commission is 15%.",
            "Unstaked assets become available after the network's unbonding period, which "
            "Harbourline does not control: for DOT this is currently 28 days.",
            "Harbourline reimburses slashing losses of up to 5,000 EUR per client per calendar "
            "year, unless the slashing results from a protocol-wide failure.",
        ],
    ),
    (
        "4. Changes and Termination",
        [
            "We give 30 days' notice of any change to this addendum, unless the change is "
            "required by law or is in the client's favour, in which case it takes effect "
            "immediately.",
            "A client may stop staking at any time from the app. This addendum ends "
            "automatically when the Harbourline Account is closed.",
        ],
    ),
    (
        "5. Tax",
        [
            "Harbourline does not deduct tax from staking rewards or interest, except deposit "
            "interest retention tax for clients resident in Ireland, which is deducted from "
            "interest on cash at 33%. Clients are responsible for declaring rewards and "
            "interest to their tax authority.",
        ],
    ),
]


def write_policy_pdf(path: Path, title: str, header: list[str], sections: list[Section]) -> None:
    """A policy PDF: a large title, section headings a size above the body, clauses as
    paragraphs that start with their number."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_title(title)
    pdf.set_author("Harbourline Securities Ltd")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "", 10)
    for line in header:
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    for heading, clauses in sections:
        pdf.ln(5)
        pdf.set_font("Helvetica", "B", 13)
        pdf.multi_cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        pdf.set_font("Helvetica", "", 10)
        for number, text in clauses:
            pdf.multi_cell(0, 5, f"{number}  {text}", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2.5)
    pdf.output(str(path))


def write_addendum_docx(path: Path) -> None:
    """The terms addendum as a Word document, its zip entries dated `FIXED_DATE`."""
    doc = Document()
    props = doc.core_properties
    props.title = ADDENDUM_TITLE
    props.author = props.last_modified_by = "Harbourline Securities Ltd"
    props.created = props.modified = FIXED_DATE.replace(tzinfo=None)
    props.revision = 1
    doc.add_heading(ADDENDUM_TITLE, level=0)
    doc.add_paragraph(ADDENDUM_INTRO)
    for heading, paragraphs in ADDENDUM:
        doc.add_heading(heading, level=1)
        for text in paragraphs:
            doc.add_paragraph(text)
    buffer = io.BytesIO()
    doc.save(buffer)
    stamp = FIXED_DATE.timetuple()[:6]
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, source.read(entry.filename))


def main() -> None:
    TUNING_DOCS.mkdir(parents=True, exist_ok=True)
    write_policy_pdf(
        TUNING_DOCS / "best_execution_policy.pdf",
        BEST_EXECUTION_TITLE,
        BEST_EXECUTION_HEADER,
        BEST_EXECUTION,
    )
    write_policy_pdf(
        TUNING_DOCS / "personal_account_dealing_policy.pdf", PAD_TITLE, PAD_HEADER, PAD
    )
    write_addendum_docx(TUNING_DOCS / "staking_and_interest_addendum.docx")
    for path in sorted(TUNING_DOCS.iterdir()):
        print(path.relative_to(TUNING_DOCS.parent), path.stat().st_size)


if __name__ == "__main__":
    main()
