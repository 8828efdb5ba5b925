import re
from decimal import Decimal, localcontext
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aishang.billing import formula as formula_module
from aishang.billing.formula import MAX_DEPTH, FormulaError, compile_formula, evaluate, explain, render

D = Decimal
STANDARD = {"面积", "套内面积", "用量", "人数", "单价", "月数", "天数", "area", "price"}


def value_of(text, **variables):
    return evaluate(compile_formula(text, variables.keys() | STANDARD), variables)


# Refused when saved


def test_a_formula_with_an_unknown_variable_is_refused_when_saved():
    with pytest.raises(FormulaError) as error:
        compile_formula("面积 × 单价 + 物业费率", STANDARD)

    assert str(error.value) == "未知的变量「物业费率」（第 11 个字符）"
    assert error.value.position == 11


def test_an_empty_formula_is_refused():
    with pytest.raises(FormulaError, match="公式不能为空"):
        compile_formula("   ", STANDARD)


def test_a_formula_over_500_characters_is_refused():
    with pytest.raises(FormulaError, match="公式过长：501 个字符，最多 500 个"):
        compile_formula("1+" * 250 + "1", STANDARD)


def test_a_missing_right_parenthesis_names_the_one_left_open():
    with pytest.raises(FormulaError, match="缺少右括号（第 4 个字符）"):
        compile_formula("1 +(面积 × 2", STANDARD)


def test_an_extra_right_parenthesis_is_refused_where_it_stands():
    with pytest.raises(FormulaError, match="多余的右括号（第 7 个字符）"):
        compile_formula("面积 × 2) + 1", STANDARD)


def test_nesting_deeper_than_the_limit_is_refused():
    text = "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1)

    with pytest.raises(FormulaError, match="嵌套过深"):
        compile_formula(text, STANDARD)


def test_nesting_up_to_the_limit_is_accepted():
    text = "(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH

    assert evaluate(compile_formula(text, STANDARD), {}) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("面积 $ 2", "无法识别的字符「$」"),
        ("面积 +", "公式不完整"),
        ("面积 面积", "此处不应出现「面积」"),
        ("1..2", "数字「1..2」写法有误"),
        ("__import__(1)", "未知的函数「__import__」"),
        ("round", "函数「round」后面缺少括号"),
        ("如果(1, 2)", "函数「如果」需要 3 个参数，实际 2 个"),
        ("abs()", "函数「abs」需要 1 个参数，实际 0 个"),
        ("1 < 2 < 3", "比较不能连写"),
    ],
)
def test_malformed_formulas_are_refused_with_a_chinese_message(text, message):
    with pytest.raises(FormulaError, match=re.escape(message)):
        compile_formula(text, STANDARD)


def test_python_is_never_run():
    with pytest.raises(FormulaError, match="未知的变量"):
        compile_formula("open", STANDARD)
    source = Path(formula_module.__file__).read_text()
    for forbidden in ("eval(", "exec(", "compile(", "import ast"):
        assert forbidden not in source.replace("compile_formula(", "")


# Evaluation


def test_multiplication_binds_tighter_than_addition():
    assert value_of("1 + 2 * 3") == 7


def test_subtraction_and_division_group_from_the_left():
    assert value_of("10 - 4 - 3") == 3
    assert value_of("24 / 4 / 3") == 2


def test_unary_minus_applies_to_what_follows():
    assert value_of("-2 * -3") == 6
    assert value_of("--2") == 2


def test_chinese_operators_and_full_width_punctuation_are_accepted():
    assert value_of("（面积 × 2 ÷ 4）＋最大(1，3)", 面积=D("10")) == 8


def test_variables_in_chinese_and_ascii_are_read():
    assert value_of("面积 * 单价 * 月数", 面积=D("120.50"), 单价=D("1.80"), 月数=1) == D("216.90")
    assert value_of("area * price", area=D("120.50"), price=D("1.80")) == D("216.90")


def test_evaluation_is_exact_in_decimal():
    assert value_of("0.1 + 0.2") == D("0.3")
    assert value_of("1 / 3 * 3") == 1


def test_division_by_zero_is_found_at_evaluation():
    compiled = compile_formula("单价 / 人数", STANDARD)

    with pytest.raises(FormulaError, match="除数为零（第 4 个字符）"):
        evaluate(compiled, {"单价": 10, "人数": 0})


def test_a_variable_without_a_value_is_refused_at_evaluation():
    compiled = compile_formula("单价 * 人数", STANDARD)

    with pytest.raises(FormulaError, match="缺少变量「人数」的值"):
        evaluate(compiled, {"单价": 10})


def test_a_float_value_is_refused_at_evaluation():
    with pytest.raises(FormulaError, match="浮点数"):
        evaluate(compile_formula("单价", STANDARD), {"单价": 1.8})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("min(3, 1, 2)", "1"),
        ("最小(3, 1)", "1"),
        ("max(3, 1, 2)", "3"),
        ("最大(-3, -1)", "-1"),
        ("round(2.5)", "3"),
        ("四舍五入(-2.5)", "-3"),
        ("round(2.345, 2)", "2.35"),
        ("ceil(2.1)", "3"),
        ("向上取整(-2.1)", "-2"),
        ("ceil(2.341, 2)", "2.35"),
        ("floor(2.9)", "2"),
        ("向下取整(-2.1)", "-3"),
        ("abs(-4.5)", "4.5"),
        ("绝对值(4.5)", "4.5"),
    ],
)
def test_functions_in_english_and_chinese(text, expected):
    assert value_of(text) == D(expected)


@pytest.mark.parametrize(("persons", "expected"), [(2, 30), (5, 60)])
def test_if_chooses_a_branch_by_a_comparison(persons, expected):
    assert value_of("如果(人数 > 3, 人数 * 12, 人数 * 15)", 人数=persons) == expected


def test_only_the_branch_taken_is_evaluated():
    assert value_of("if(人数 == 0, 0, 100 / 人数)", 人数=0) == 0


@pytest.mark.parametrize(("text", "expected"), [("2 <= 2", 1), ("2 < 2", 0), ("3 >= 4", 0), ("1 != 2", 1),
                                                ("1 == 1", 1), ("3 > 2", 1)])
def test_comparisons_are_one_when_true_and_zero_when_false(text, expected):
    assert value_of(text) == expected


# Explanation


def test_explain_substitutes_the_bills_values():
    compiled = compile_formula("面积 × 单价 × 月数", STANDARD)

    assert explain(compiled, {"面积": D("120.50"), "单价": D("1.80"), "月数": 1}) == "120.50 × 1.80 × 1 = 216.90"


def test_explain_keeps_the_parentheses_that_matter_and_marks_approximate_results():
    compiled = compile_formula("200*(天数)/(31) - -单价", STANDARD)

    assert render(compiled) == "200 × 天数 ÷ 31 - -单价"
    assert explain(compiled, {"天数": 20, "单价": D("-1")}) == "200 × 20 ÷ 31 - -(-1) ≈ 128.0323"


def test_explain_keeps_grouping_on_the_right_of_a_subtraction():
    compiled = compile_formula("10 - (4 - 3)", STANDARD)

    assert render(compiled) == "10 - (4 - 3)"


def test_a_compiled_formula_lists_the_variables_it_uses():
    assert compile_formula("面积 * 单价 + max(人数, 1)", STANDARD).variables == {"面积", "单价", "人数"}


# Random safe arithmetic equals Decimal arithmetic

decimals = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def expressions(draw, depth=0):
    """(formula text, the same expression computed with Decimal)."""
    if depth >= 4 or draw(st.booleans()):
        value = draw(decimals)
        return (f"({value})" if value < 0 else str(value)), value
    operator = draw(st.sampled_from(["+", "-", "*", "neg"]))
    left_text, left = draw(expressions(depth=depth + 1))
    if operator == "neg":
        return f"-({left_text})", -left
    right_text, right = draw(expressions(depth=depth + 1))
    value = {"+": left + right, "-": left - right, "*": left * right}[operator]
    return f"({left_text} {operator} {right_text})", value


@given(expressions())
def test_random_arithmetic_evaluates_as_decimal_arithmetic(expression):
    text, expected = expression
    with localcontext() as context:
        context.prec = 60
        assert evaluate(compile_formula(text, STANDARD), {}) == +expected


@given(a=decimals, b=decimals.filter(lambda value: value != 0))
def test_random_division_agrees_with_decimal_division(a, b):
    with localcontext() as context:
        context.prec = 34
        expected = a / b

    assert evaluate(compile_formula(f"({a}) / ({b})", STANDARD), {}) == expected
