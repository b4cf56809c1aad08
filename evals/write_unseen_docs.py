"""Writes the PDF and DOCX documents of the unseen-documents set (evals/golden/unseen_docs/).

The set's Markdown and HTML documents are written by hand; the two policy PDFs (numbered
clauses, made with fpdf2) and the DOCX terms addendum (python-docx) are generated from the text
below, so their wording can be read and reviewed here and the files rebuilt (the PDFs byte
for byte; a DOCX is a zip that records the time it was written):

    python -m evals.write_unseen_docs [FOLDER]

The firm, its people and every figure are invented for the evaluation. The files are committed:
the evaluation reads them, it does not run this script.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

UNSEEN_DOCS = Path(__file__).resolve().parent / "golden" / "unseen_docs"
CREATED = datetime(2026, 3, 1)  # fixed, so the files come out the same on every run

Clause = tuple[str, str]  # (number, text)
Section = tuple[str, list[Clause]]  # (heading, clauses)

CUSTODY_TITLE = "Custody and Cold Storage Policy"
CUSTODY_INTRO = (
    "Calder Bay Markets Ltd. Policy CBM-POL-014, version 3.2, approved by the Board on "
    "18 February 2026 and effective from 1 March 2026. Owner: Head of Custody."
)
CUSTODY: list[Section] = [
    (
        "1. Scope",
        [
            (
                "1.1",
                "This policy applies to all crypto-assets that Calder Bay Markets Ltd (the Firm) "
                "holds for clients. Client cash is covered by the Client Money Policy, not by "
                "this policy.",
            ),
            (
                "1.2",
                "It applies to every employee and contractor who can initiate, approve or sign "
                "a movement of client crypto-assets.",
            ),
        ],
    ),
    (
        "2. Segregation and reconciliation",
        [
            (
                "2.1",
                "Client crypto-assets are held in wallets segregated from the Firm's own "
                "assets and are never lent, staked or pledged without the client's written "
                "consent under the Staking Services addendum.",
            ),
            (
                "2.2",
                "Client holdings are reconciled against the blockchains every day at 06:00 UTC. "
                "A difference above 0.5% of an asset's client balance is escalated to the Head "
                "of Custody within 4 hours.",
            ),
        ],
    ),
    (
        "3. Cold storage",
        [
            (
                "3.1",
                "At least 95% of client crypto-assets, measured by value at the end of each "
                "day, are kept in cold storage: offline wallets whose keys are held in hardware "
                "security modules in vaults in Zurich and Frankfurt.",
            ),
            (
                "3.2",
                "The hot wallets hold at most 5% of client crypto-assets by value, and no single "
                "hot wallet may hold more than USD 2,000,000.",
            ),
            (
                "3.3",
                "When the hot wallets' share rises above 4%, the excess is moved back to cold "
                "storage by 18:00 CET on the next business day.",
            ),
        ],
    ),
    (
        "4. Key management",
        [
            (
                "4.1",
                "Cold wallets use 3-of-5 multi-signature: a transaction needs three of five key "
                "holders. The key holders work in three different cities and no two of them "
                "report to the same manager.",
            ),
            (
                "4.2",
                "Keys are generated in ceremonies witnessed by Internal Audit and rotated every "
                "24 months, or at once when a key holder leaves the Firm.",
            ),
        ],
    ),
    (
        "5. Movements out of cold storage",
        [
            (
                "5.1",
                "A release from cold storage is completed within 24 hours of the request.",
            ),
            (
                "5.2",
                "A release above USD 250,000 needs the approval of two Custody Officers and of "
                "the Chief Risk Officer. Below that amount two Custody Officers suffice.",
            ),
        ],
    ),
    (
        "6. Insurance",
        [
            (
                "6.1",
                "Crypto-assets in cold storage are insured against theft and loss of keys up "
                "to USD 150 million in aggregate per policy year, underwritten by Marlowe "
                "Specialty Syndicate 4417 at Lloyd's.",
            ),
            (
                "6.2",
                "Crypto-assets in hot wallets are insured up to USD 10 million per incident.",
            ),
            (
                "6.3",
                "The insurance does not cover losses caused by a client's own compromised login "
                "details, nor losses from a blockchain fork or a change of a network's rules.",
            ),
        ],
    ),
    (
        "7. Proof of reserves",
        [
            (
                "7.1",
                "The Firm publishes a proof of reserves every quarter, within 30 days of the "
                "quarter's end, attested by Hale & Whitcombe LLP.",
            ),
        ],
    ),
    (
        "8. Review",
        [
            (
                "8.1",
                "The Risk Committee reviews this policy every year; the next review is due in "
                "February 2027.",
            ),
        ],
    ),
]

MARGIN_TITLE = "Margin and Leverage Rules"
MARGIN_INTRO = (
    "Calder Bay Markets Ltd. Rules MR-2026, in force from 1 June 2026 for all margin accounts. "
    "They form part of the Client Agreement."
)
MARGIN: list[Section] = [
    (
        "1. Eligibility",
        [
            (
                "1.1",
                "A margin account can be opened by a client aged 21 or over who has passed "
                "enhanced due diligence and holds at least 5,000 EUR of equity in the account.",
            ),
            (
                "1.2",
                "Where margin trading is offered depends on the client's country of residence; "
                "see the Service Availability by Country page.",
            ),
        ],
    ),
    (
        "2. Maximum leverage",
        [
            (
                "2.1",
                "Retail clients may use leverage of at most 5:1 on shares of the EURO STOXX 50, "
                "S&P 500 and FTSE 100 indices (20% initial margin), 3:1 on other shares and "
                "ETFs (33% initial margin) and 2:1 on crypto-assets (50% initial margin).",
            ),
            (
                "2.2",
                "Professional clients may use at most 10:1 on shares and ETFs and 5:1 on "
                "crypto-assets.",
            ),
        ],
    ),
    (
        "3. Maintenance margin and margin calls",
        [
            (
                "3.1",
                "The maintenance margin is 25% of the position's value for shares and ETFs and "
                "35% for crypto-assets.",
            ),
            (
                "3.2",
                "When the account's equity falls below the maintenance margin, the Firm makes a "
                "margin call by e-mail and in the app. The client has 2 business days to restore "
                "the margin for shares and ETFs, and 24 hours for crypto-assets.",
            ),
        ],
    ),
    (
        "4. Liquidation",
        [
            (
                "4.1",
                "If the margin level falls below 15% for shares and ETFs, or below 20% for "
                "crypto-assets, the Firm closes positions without further notice, starting with "
                "the position with the largest loss, until the maintenance margin is restored.",
            ),
            (
                "4.2",
                "Retail clients have negative balance protection: they cannot lose more than the "
                "equity in their margin account.",
            ),
        ],
    ),
    (
        "5. Interest on borrowed amounts",
        [
            (
                "5.1",
                "Borrowed amounts up to 100,000 EUR pay the ECB deposit facility rate plus 3.5% "
                "a year; the part above 100,000 EUR pays the rate plus 2.0% a year. Interest is "
                "charged daily and debited on the first business day of each month.",
            ),
        ],
    ),
    (
        "6. Concentration",
        [
            (
                "6.1",
                "When a single position is worth more than 30% of the account's equity, the "
                "initial margin for that position rises to 40%.",
            ),
        ],
    ),
]

STAKING_TITLE = "Terms Addendum: Staking Services"
STAKING_INTRO = (
    "This addendum to the Client Agreement of Calder Bay Markets Ltd applies from 15 January "
    "2026 to clients who switch on staking in the app. Where it differs from the Client "
    "Agreement, this addendum prevails for staked assets."
)
STAKING_ASSETS = [
    ("Asset", "Estimated reward (a year)", "Minimum stake", "Unbonding period"),
    ("ETH", "3.1%", "0.1 ETH", "up to 9 days"),
    ("SOL", "6.4%", "1 SOL", "2 to 3 days"),
    ("DOT", "11.5%", "10 DOT", "28 days"),
]
STAKING: list[Section] = [
    (
        "1. Eligible assets and rewards",
        [
            (
                "1.1",
                "The assets that can be staked, their estimated rewards, minimum stakes and "
                "unbonding periods are in the table below. Rewards are estimates set by the "
                "networks and are not guaranteed.",
            ),
        ],
    ),
    (
        "2. Our commission",
        [
            (
                "2.1",
                "We keep 15% of the rewards earned as our commission; VIP clients pay 10%. The "
                "rewards shown in the app are after our commission.",
            ),
            (
                "2.2",
                "Rewards are credited every Monday for the week before.",
            ),
        ],
    ),
    (
        "3. Who can stake",
        [
            (
                "3.1",
                "Staking is available to all clients resident in the European Economic Area, "
                "except residents of the Netherlands and Belgium.",
            ),
            (
                "3.2",
                "Residents of the United Kingdom may stake only if they are classified as "
                "professional clients. Residents of Singapore cannot stake.",
            ),
            (
                "3.3",
                "Clients whose identity verification has expired cannot start new stakes; "
                "existing stakes keep earning rewards until unstaked.",
            ),
        ],
    ),
    (
        "4. Unstaking",
        [
            (
                "4.1",
                "Staked assets cannot be sold or withdrawn during the unbonding period and earn "
                "no rewards in it.",
            ),
        ],
    ),
    (
        "5. Slashing",
        [
            (
                "5.1",
                "If a validator we operate is penalised by its network (slashing), we "
                "compensate the client's loss up to 1,000 EUR per client per calendar year.",
            ),
            (
                "5.2",
                "This compensation does not apply to assets the client chose to delegate to a "
                "third-party validator, nor to losses from a change of a network's rules.",
            ),
        ],
    ),
]


def write_pdf(path: Path, title: str, intro: str, sections: list[Section]) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(CREATED)
    pdf.set_title(title)
    pdf.set_author("Calder Bay Markets Ltd")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 5, intro, new_x="LMARGIN", new_y="NEXT")
    for heading, clauses in sections:
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        for number, text in clauses:
            pdf.ln(1)
            pdf.multi_cell(0, 5, f"{number}  {text}", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def write_docx(path: Path) -> None:
    from docx import Document

    doc = Document()
    doc.core_properties.title = STAKING_TITLE
    doc.core_properties.author = "Calder Bay Markets Ltd"
    doc.core_properties.created = CREATED
    doc.core_properties.modified = CREATED
    doc.add_heading(STAKING_TITLE, level=0)
    doc.add_paragraph(STAKING_INTRO)
    for heading, clauses in STAKING:
        doc.add_heading(heading, level=1)
        for number, text in clauses:
            doc.add_paragraph(f"{number}  {text}")
        if heading.startswith("1."):
            table = doc.add_table(rows=0, cols=len(STAKING_ASSETS[0]))
            for row in STAKING_ASSETS:
                cells = table.add_row().cells
                for cell, value in zip(cells, row, strict=True):
                    cell.text = value
    doc.save(str(path))


def main(folder: Path = UNSEEN_DOCS) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_pdf(folder / "custody_cold_storage_policy.pdf", CUSTODY_TITLE, CUSTODY_INTRO, CUSTODY)
    write_pdf(folder / "margin_leverage_rules.pdf", MARGIN_TITLE, MARGIN_INTRO, MARGIN)
    write_docx(folder / "staking_terms_addendum.docx")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else UNSEEN_DOCS)
