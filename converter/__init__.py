"""perfgoal converter: one definition of the 财政项目支出绩效目标申报表 and everything derived from it."""

__version__ = "0.1.0"
