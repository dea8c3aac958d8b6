"""What happened after the police filed a case: the investigation's, the prosecution's and the
court's results, and the case's closing."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .people import Agency, User

# Each stage is recorded by one agency, and each has its outcomes (the criminal process, in order).
RESULT_STAGES = ("investigation", "prosecution", "judgment")
RESULT_AGENCIES = {"investigation": "police", "prosecution": "procuratorate", "judgment": "court"}
RESULT_OUTCOMES = {
    # 移送审查起诉 / 撤案
    "investigation": ("prosecution_recommended", "withdrawn"),
    # 起诉 / 不起诉
    "prosecution": ("prosecuted", "not_prosecuted"),
    # 有罪判决 / 无罪判决
    "judgment": ("convicted", "acquitted"),
}
# Compulsory measures of the Criminal Procedure Law (arts. 66-100): 拘传, 取保候审, 监视居住, 刑事拘留, 逮捕.
MEASURE_KINDS = ("summons", "bail", "residential_surveillance", "detention", "arrest")


class CaseResult(Base):
    """One agency's result at one stage. A stage may be recorded again (a later or corrected
    result); the newest row of a stage is the case's result there, the older ones its history."""

    __tablename__ = "case_result"
    __table_args__ = (Index("ix_case_result_case_stage", "case_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(32))
    # The legal date: of 移送审查起诉 or 撤案, of the procuratorate's decision, of the judgment.
    decided_on: Mapped[date] = mapped_column(Date)
    # Suspects (investigation), persons prosecuted or not (prosecution), persons judged (judgment).
    persons: Mapped[int]
    document_number: Mapped[str | None] = mapped_column(String(100))
    # Reasons, or the judgment's sentences in summary.
    summary: Mapped[str] = mapped_column(Text)
    # Judgments: civil compensation awarded to the rights holder, whole yuan.
    compensation: Mapped[int | None] = mapped_column(BigInteger)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime]

    agency: Mapped[Agency] = relationship(lazy="joined", viewonly=True)
    recorded_by: Mapped[User] = relationship(viewonly=True)
    measures: Mapped[list[CompulsoryMeasure]] = relationship(
        back_populates="result", cascade="all, delete-orphan", order_by="CompulsoryMeasure.id")


class CompulsoryMeasure(Base):
    """A compulsory measure the police took during the investigation, with its date."""

    __tablename__ = "compulsory_measure"

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("case_result.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    ordered_on: Mapped[date] = mapped_column(Date)
    persons: Mapped[int]

    result: Mapped[CaseResult] = relationship(back_populates="measures")


class CaseClosure(Base):
    """A case closed once every mechanism on it had ended: by whom, when and why."""

    __tablename__ = "case_closure"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), unique=True)
    closed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)

    closed_by: Mapped[User] = relationship(viewonly=True)
