"""Synthetic district: a realistic DT-PPFM extract for the demo, the tests and the benchmarks.

``python -m slrt_dev.synthetic --district 3204 --individuals 300000 --seed 7 --out F``

Names from Faker's ``id_ID`` locale; NIK and KK numbers consistent with the village, birth date
and sex; household sizes, welfare deciles, disability prevalence and program participation
shaped like a poor district's registry (PKH households mostly also get BPNT and PIS-PBI, PIP
goes to school-age children); and a small share of deliberate data errors, some that the
importer must reject and some that only raise data-quality warnings. Same seed, same file.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from faker import Faker
from rich.progress import Progress

from services.registry.domain.identity import Sex, make_kk, make_nik
from services.registry.extract import COLUMNS
from slrt.places import Level, directory

HOUSEHOLD_SIZES = (1, 2, 3, 4, 5, 6, 7, 8)
HOUSEHOLD_SIZE_WEIGHTS = (9, 15, 22, 24, 15, 8, 4, 3)
DECILE_WEIGHTS = (18, 17, 16, 15, 10, 8, 6, 4, 3, 3)
"""The registry holds the poorest ~40 % and more: most households in the lowest deciles."""
DISABILITY_KINDS = ("physical", "sensory", "intellectual", "mental", "multiple")
DISABILITY_WEIGHTS = (45, 25, 12, 12, 6)

ERROR_KINDS = (
    "nik_length",  # rejected
    "missing_name",  # rejected
    "decile_out_of_range",  # rejected
    "impossible_birth_date",  # rejected
    "duplicate_nik",  # rejected (the later line)
    "nik_birth_date_mismatch",  # imported, warning
    "nik_sex_mismatch",  # imported, warning
)


@dataclass
class Person:
    name: str
    sex: Sex
    birth_date: date
    relation: str
    disability: str = ""
    school_status: str = ""
    pmks: str = ""
    programs: list[str] = field(default_factory=list)


@dataclass
class District:
    code: str
    villages: list[str]


def district(code: str) -> District:
    places = directory()
    root = places.get(code)
    if root is None or root.level is not Level.REGENCY:
        raise SystemExit("--district must be a four-digit regency code of the place directory")
    villages = [
        village.code for sub in places.children(code) for village in places.children(sub.code)
    ]
    return District(code, sorted(villages))


class Generator:
    def __init__(self, district_code: str, seed: int, error_rate: float, today: date) -> None:
        self.district = district(district_code)
        self.rng = random.Random(seed)
        self.fake = Faker("id_ID")
        self.fake.seed_instance(seed)
        self.error_rate = error_rate
        self.today = today
        self.period = str(today.year)
        self._nik_serials: Counter[tuple[str, date, Sex]] = Counter()
        self._kk_serials: Counter[tuple[str, date]] = Counter()
        self._previous_nik: str | None = None
        self.errors_written: Counter[str] = Counter()

    def _age_date(self, low: int, high: int) -> date:
        days = self.rng.randint(low * 365, high * 365 + 364)
        return self.today - timedelta(days=days)

    def _name(self, sex: Sex) -> str:
        fake, rng = self.fake, self.rng
        first = fake.first_name_male() if sex == "male" else fake.first_name_female()
        if rng.random() < 0.25:
            return str(first)  # many Indonesians have a single name
        last = fake.last_name_male() if sex == "male" else fake.last_name_female()
        return f"{first} {last}"

    def _person(self, relation: str, sex: Sex, low: int, high: int) -> Person:
        born = self._age_date(low, high)
        age = (self.today - born).days // 365
        person = Person(self._name(sex), sex, born, relation)
        if self.rng.random() < 0.02 + (0.08 if age >= 60 else 0.0):
            person.disability = self.rng.choices(DISABILITY_KINDS, DISABILITY_WEIGHTS)[0]
        if 7 <= age <= 18:
            roll = self.rng.random()
            person.school_status = (
                "madrasah" if roll < 0.15 else "school" if roll < 0.87 else "dropped_out"
            )
        elif age > 18:
            person.school_status = "graduated" if self.rng.random() < 0.6 else "not_in_school"
        return person

    def _members(self) -> list[Person]:
        rng = self.rng
        size = rng.choices(HOUSEHOLD_SIZES, HOUSEHOLD_SIZE_WEIGHTS)[0]
        head_sex: Sex = "male" if rng.random() < 0.8 else "female"
        if size == 1:
            return [self._person("head", head_sex, 45, 85)]
        head = self._person("head", head_sex, 25, 75)
        members = [head]
        head_age = (self.today - head.birth_date).days // 365
        if head_sex == "male" or rng.random() < 0.3:
            spouse_sex: Sex = "female" if head_sex == "male" else "male"
            members.append(self._person("spouse", spouse_sex, max(18, head_age - 8), head_age + 3))
        if size - len(members) >= 2 and head_age >= 45 and rng.random() < 0.25:
            members.append(
                self._person(
                    "parent", rng.choice(["male", "female"]), head_age + 18, min(head_age + 35, 95)
                )
            )
        while len(members) < size:
            oldest_child = max(0, min(head_age - 18, 30))
            youngest_child = max(0, min(head_age - 45, oldest_child))
            sex: Sex = rng.choice(["male", "female"])
            relation = "grandchild" if oldest_child > 25 and rng.random() < 0.2 else "child"
            low, high = (0, 6) if relation == "grandchild" else (youngest_child, oldest_child)
            members.append(self._person(relation, sex, low, high))
        return members

    def _programs(self, decile: int, members: list[Person]) -> list[str]:
        rng = self.rng
        ages = [(self.today - m.birth_date).days // 365 for m in members]
        has_dependants = any(a < 18 for a in ages) or any(a >= 70 for a in ages)
        household: list[str] = []
        pkh = decile <= 3 and has_dependants and rng.random() < 0.55
        if pkh:
            household.append("PKH")
        if (pkh and rng.random() < 0.9) or (not pkh and decile <= 4 and rng.random() < 0.4):
            household.append("BPNT")
        pbi = 0.95 if pkh else 0.6 if decile <= 4 else 0.15
        if rng.random() < pbi:
            for m in members:
                m.programs.append("PIS_PBI")
        for m, age in zip(members, ages, strict=True):
            school_age = 6 <= age <= 21 and m.school_status in ("school", "madrasah")
            if school_age and decile <= 4 and rng.random() < (0.8 if pkh else 0.45):
                m.programs.append(
                    "PIP_KEMENAG" if m.school_status == "madrasah" else "PIP_KEMENDIKBUD"
                )
            if m.disability and rng.random() < 0.5:
                m.pmks = "person_with_disability"
            elif age >= 70 and len(members) == 1 and rng.random() < 0.4:
                m.pmks = "neglected_elderly"
        return household

    def _nik(self, sub_district: str, person: Person) -> str:
        key = (sub_district, person.birth_date, person.sex)
        self._nik_serials[key] += 1
        return make_nik(sub_district, person.birth_date, person.sex, self._nik_serials[key])

    def _kk(self, sub_district: str) -> str:
        issued = self._age_date(0, 15)
        self._kk_serials[(sub_district, issued)] += 1
        return make_kk(sub_district, issued, self._kk_serials[(sub_district, issued)])

    def households(self) -> Iterator[list[dict[str, str]]]:
        """Households, each as the extract rows of its members."""
        rng, fake = self.rng, self.fake
        number = 0
        while True:
            number += 1
            village = rng.choice(self.district.villages)
            sub_district = village[:6]
            decile = rng.choices(range(1, 11), DECILE_WEIGHTS)[0]
            members = self._members()
            household_programs = self._programs(decile, members)
            street = fake.street_name()
            address = (
                f"{street} No. {rng.randint(1, 150)}, RT {rng.randint(1, 15):03d}/RW "
                f"{rng.randint(1, 9):03d}"
            )
            kk = self._kk(sub_district)
            second_kk = self._kk(sub_district) if len(members) >= 5 and rng.random() < 0.1 else kk
            rows = []
            for index, person in enumerate(members):
                moved = rng.random() < 0.08
                nik_place = rng.choice(self.district.villages)[:6] if moved else sub_district
                row = {
                    "household_ref": f"{self.district.code}{number:010d}",
                    "village_code": village,
                    "address": address,
                    "welfare_decile": str(decile),
                    "kk_number": second_kk if person.relation == "parent" else kk,
                    "nik": self._nik(nik_place, person),
                    "name": person.name,
                    "sex": "L" if person.sex == "male" else "P",
                    "birth_date": person.birth_date.isoformat(),
                    "relation": person.relation,
                    "disability": person.disability,
                    "school_status": person.school_status,
                    "pmks": person.pmks,
                    "household_programs": ";".join(household_programs) if index == 0 else "",
                    "individual_programs": ";".join(person.programs),
                    "period": self.period,
                }
                if rng.random() < self.error_rate:
                    self._spoil(row)
                self._previous_nik = row["nik"]
                rows.append(row)
            yield rows

    def _spoil(self, row: dict[str, str]) -> None:
        """A deliberate data error of a random kind (what real extracts contain)."""
        kind = self.rng.choice(ERROR_KINDS)
        if kind == "duplicate_nik" and self._previous_nik is None:
            return
        self.errors_written[kind] += 1
        if kind == "nik_length":
            row["nik"] = row["nik"][:15]
        elif kind == "missing_name":
            row["name"] = ""
        elif kind == "decile_out_of_range":
            row["welfare_decile"] = "11"
        elif kind == "impossible_birth_date":
            row["birth_date"] = row["birth_date"][:5] + "02-30"
        elif kind == "duplicate_nik":
            row["nik"] = self._previous_nik or row["nik"]
        elif kind == "nik_birth_date_mismatch":
            born = date.fromisoformat(row["birth_date"]) + timedelta(days=self.rng.randint(1, 9))
            row["birth_date"] = born.isoformat()
        elif kind == "nik_sex_mismatch":
            row["sex"] = "P" if row["sex"] == "L" else "L"


def write_extract(
    out: Path,
    district_code: str,
    individuals: int,
    seed: int,
    *,
    error_rate: float = 0.005,
    today: date | None = None,
    progress: bool = False,
) -> Counter[str]:
    """Write about ``individuals`` rows (whole households); returns the errors written."""
    generator = Generator(district_code, seed, error_rate, today or date.today())
    written = 0
    with out.open("w", newline="", encoding="utf-8") as f, Progress(disable=not progress) as bar:
        task = bar.add_task("generating", total=individuals)
        writer = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        writer.writeheader()
        for rows in generator.households():
            writer.writerows(rows)
            written += len(rows)
            bar.update(task, advance=len(rows))
            if written >= individuals:
                break
    return generator.errors_written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="slrt-registry-generate", description="Write a synthetic DT-PPFM district extract."
    )
    parser.add_argument("--district", required=True, help="regency code, e.g. 3204")
    parser.add_argument("--individuals", type=int, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--error-rate", type=float, default=0.005)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    errors = write_extract(
        args.out,
        args.district.replace(".", ""),
        args.individuals,
        args.seed,
        error_rate=args.error_rate,
        progress=sys.stderr.isatty(),
    )
    print(f"wrote {args.out} with deliberate errors: {dict(sorted(errors.items()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
