"""Contact names for conversation parties: which identifiers are the same party (reports/contacts.py).

Truth is the numbering plan (ITU-T E.164: a national number is the international one without its
country code, written with a trunk prefix such as the UK's or France's 0) and WhatsApp's JID form
``<E.164 digits>@s.whatsapp.net``.
"""

from __future__ import annotations

from evkit.reports.contacts import ContactNames, identity_key


def test_national_international_and_jid_forms_of_one_number_agree() -> None:
    forms = ["+44 7700 900123", "07700 900123", "447700900123@s.whatsapp.net", "(07700) 900-123", "+447700900123"]
    assert len({identity_key(f) for f in forms}) == 1


def test_different_numbers_emails_and_app_ids_stay_apart() -> None:
    assert identity_key("+44 7700 900123") != identity_key("+44 7700 900124")
    assert identity_key("Anna@Example.org") == identity_key("anna@example.org")
    # A Telegram uid (an integer) is never taken for the phone number with the same digits.
    assert identity_key(447700900123) != identity_key("+447700900123")
    assert identity_key(None) is None and identity_key("  ") is None and identity_key(True) is None


def test_names_are_per_evidence_item_and_shared_numbers_show_every_name() -> None:
    names = ContactNames()
    names.add("P1", "+33 6 12 34 00 02, anna@example.org", "Anna Martin")
    names.add("P1", "0612340002", "Mum")
    names.add("P2", "+447700900123", "Bob")
    assert names.name("P1", "33612340002@s.whatsapp.net") == "Anna Martin / Mum"
    assert names.name("P1", "ANNA@example.org") == "Anna Martin"
    assert names.name("P2", "+33612340002") is None  # P1's address book never names P2's parties
    assert names.name("P1", "+447700900123") is None
