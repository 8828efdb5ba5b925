"""A small, safe expression language for charge formulas (公式计费).

Formulas are typed by finance staff, so they are parsed by our own tokenizer and recursive-descent
parser into our own tree and evaluated exactly with fractions; nothing is ever handed to Python's
eval, exec, compile or ast. Grammar, loosest binding first:

    expression  := comparison
    comparison  := sum [("<" | "<=" | ">" | ">=" | "==" | "!=") sum]
    sum         := product (("+" | "-") product)*
    product     := unary (("*" | "/") unary)*
    unary       := ("-" | "+") unary | primary
    primary     := number | name | name "(" [expression ("," expression)*] ")" | "(" expression ")"

× ÷ （ ） ， are accepted for * / ( ) , and a comparison is 1 when true and 0 when false.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction

from django.utils.translation import gettext

from aishang.core.money import InvalidAmount, Number, describe_number, to_decimal, to_fraction

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "CompiledFormula",
    "FormulaError",
    "compile_formula",
    "evaluate",
    "evaluate_exact",
    "explain",
    "render",
]

MAX_LENGTH = 500
MAX_DEPTH = 20

_FUNCTION_ALIASES = {
    "min": "min", "最小": "min", "最小值": "min",
    "max": "max", "最大": "max", "最大值": "max",
    "round": "round", "四舍五入": "round",
    "ceil": "ceil", "向上取整": "ceil",
    "floor": "floor", "向下取整": "floor",
    "abs": "abs", "绝对值": "abs",
    "if": "if", "如果": "if",
}
FUNCTIONS = frozenset(_FUNCTION_ALIASES)
_ARITY = {"min": (1, None), "max": (1, None), "round": (1, 2), "ceil": (1, 2), "floor": (1, 2), "abs": (1, 1),
          "if": (3, 3)}

_SAME_AS = {"×": "*", "÷": "/", "（": "(", "）": ")", "，": ",", "－": "-", "＋": "+"}
_COMPARISONS = ("<=", ">=", "==", "!=", "<", ">")
_SINGLE = "+-*/(),"


class FormulaError(ValueError):
    """A formula that cannot be saved or evaluated; the message names the problem and where it is."""

    def __init__(self, message: str, position: int | None = None):
        self.message = message
        self.position = position
        if position is not None:
            message = gettext("%(message)s（第 %(position)s 个字符）") % {"message": message, "position": position}
        super().__init__(message)


@dataclass(frozen=True)
class _Token:
    kind: str  # number, name, op, end
    text: str
    position: int  # 1-based, as a person counts characters


def _is_name_start(char: str) -> bool:
    return char == "_" or char.isalpha()


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    index = 0
    while index < len(text):
        char = _SAME_AS.get(text[index], text[index])
        position = index + 1
        if char.isspace():
            index += 1
        elif (char.isascii() and char.isdigit()) or (char == "." and text[index + 1:index + 2].isdigit()):
            end = index
            while end < len(text) and text[end].isascii() and (text[end].isdigit() or text[end] == "."):
                end += 1
            number = text[index:end]
            if number.count(".") > 1:
                raise FormulaError(gettext("数字「%(number)s」写法有误") % {"number": number}, position)
            tokens.append(_Token("number", number, position))
            index = end
        elif _is_name_start(char):
            end = index + 1
            while end < len(text) and (_is_name_start(text[end]) or text[end].isdigit()):
                end += 1
            tokens.append(_Token("name", text[index:end], position))
            index = end
        elif text[index:index + 2] in _COMPARISONS:
            tokens.append(_Token("op", text[index:index + 2], position))
            index += 2
        elif char in _SINGLE or char in "<>":
            tokens.append(_Token("op", char, position))
            index += 1
        else:
            raise FormulaError(gettext("无法识别的字符「%(char)s」") % {"char": text[index]}, position)
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


# The tree


@dataclass(frozen=True)
class _Number:
    value: Fraction
    text: str
    position: int


@dataclass(frozen=True)
class _Variable:
    name: str
    position: int


@dataclass(frozen=True)
class _Unary:
    operator: str
    operand: object
    position: int


@dataclass(frozen=True)
class _Binary:
    operator: str
    left: object
    right: object
    position: int


@dataclass(frozen=True)
class _Call:
    function: str  # canonical name
    written: str  # as the user wrote it
    arguments: tuple
    position: int


_PRECEDENCE = {"<": 1, "<=": 1, ">": 1, ">=": 1, "==": 1, "!=": 1, "+": 2, "-": 2, "*": 3, "/": 3}


class _Parser:
    def __init__(self, text: str, allowed_variables: frozenset[str]):
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0
        self.allowed = allowed_variables

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.current
        self.index += 1
        return token

    def expect(self, text: str, opened: _Token | None = None) -> None:
        if self.current.kind == "op" and self.current.text == text:
            self.advance()
            return
        if text == ")":
            raise FormulaError(gettext("括号不配对：缺少右括号"), opened.position if opened else self.current.position)
        self.unexpected()

    def unexpected(self):
        token = self.current
        if token.kind == "end":
            raise FormulaError(gettext("公式不完整"), token.position)
        if token.text == ")":
            raise FormulaError(gettext("括号不配对：多余的右括号"), token.position)
        raise FormulaError(gettext("此处不应出现「%(token)s」") % {"token": token.text}, token.position)

    def nested(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaError(gettext("公式嵌套过深（最多 %(depth)s 层）") % {"depth": MAX_DEPTH}, token.position)

    def parse(self):
        node = self.expression()
        if self.current.kind != "end":
            self.unexpected()
        return node

    def expression(self):
        left = self.sum()
        if self.current.kind == "op" and self.current.text in _COMPARISONS:
            token = self.advance()
            left = _Binary(token.text, left, self.sum(), token.position)
            if self.current.kind == "op" and self.current.text in _COMPARISONS:
                raise FormulaError(gettext("比较不能连写，请用「如果」分开"), self.current.position)
        return left

    def sum(self):
        node = self.product()
        while self.current.kind == "op" and self.current.text in "+-":
            token = self.advance()
            node = _Binary(token.text, node, self.product(), token.position)
        return node

    def product(self):
        node = self.unary()
        while self.current.kind == "op" and self.current.text in "*/":
            token = self.advance()
            node = _Binary(token.text, node, self.unary(), token.position)
        return node

    def unary(self):
        if self.current.kind == "op" and self.current.text in "+-":
            token = self.advance()
            self.nested(token)
            node = _Unary(token.text, self.unary(), token.position)
            self.depth -= 1
            return node
        return self.primary()

    def primary(self):
        token = self.current
        if token.kind == "number":
            self.advance()
            return _Number(Fraction(Decimal(token.text)), token.text, token.position)
        if token.kind == "name":
            self.advance()
            if self.current.kind == "op" and self.current.text == "(":
                return self.call(token)
            if token.text not in self.allowed:
                if token.text in _FUNCTION_ALIASES:
                    raise FormulaError(gettext("函数「%(name)s」后面缺少括号") % {"name": token.text}, token.position)
                raise FormulaError(gettext("未知的变量「%(name)s」") % {"name": token.text}, token.position)
            return _Variable(token.text, token.position)
        if token.kind == "op" and token.text == "(":
            self.advance()
            self.nested(token)
            node = self.expression()
            self.expect(")", token)
            self.depth -= 1
            return node
        self.unexpected()

    def call(self, name: _Token):
        function = _FUNCTION_ALIASES.get(name.text)
        if function is None:
            raise FormulaError(gettext("未知的函数「%(name)s」") % {"name": name.text}, name.position)
        opened = self.advance()
        self.nested(opened)
        arguments = []
        if not (self.current.kind == "op" and self.current.text == ")"):
            arguments.append(self.expression())
            while self.current.kind == "op" and self.current.text == ",":
                self.advance()
                arguments.append(self.expression())
        self.expect(")", opened)
        self.depth -= 1
        low, high = _ARITY[function]
        if len(arguments) < low or (high is not None and len(arguments) > high):
            if low == high:
                expected = str(low)
            elif high is None:
                expected = gettext("至少 %(count)s") % {"count": low}
            else:
                expected = f"{low}～{high}"
            raise FormulaError(gettext("函数「%(name)s」需要 %(expected)s 个参数，实际 %(count)s 个")
                               % {"name": name.text, "expected": expected, "count": len(arguments)}, name.position)
        return _Call(function, name.text, tuple(arguments), name.position)


@dataclass(frozen=True)
class CompiledFormula:
    text: str
    tree: object
    variables: frozenset[str]

    def __str__(self) -> str:
        return self.text


def _used_variables(node) -> set[str]:
    if isinstance(node, _Variable):
        return {node.name}
    if isinstance(node, _Unary):
        return _used_variables(node.operand)
    if isinstance(node, _Binary):
        return _used_variables(node.left) | _used_variables(node.right)
    if isinstance(node, _Call):
        return set().union(*(_used_variables(argument) for argument in node.arguments))
    return set()


def compile_formula(text: str, allowed_variables) -> CompiledFormula:
    """Parse and check a formula when it is saved; raise FormulaError in Chinese, naming problem and place."""
    if text is None or not text.strip():
        raise FormulaError(gettext("公式不能为空"))
    if len(text) > MAX_LENGTH:
        raise FormulaError(gettext("公式过长：%(length)s 个字符，最多 %(limit)s 个")
                           % {"length": len(text), "limit": MAX_LENGTH})
    tree = _Parser(text, frozenset(allowed_variables)).parse()
    return CompiledFormula(text, tree, frozenset(_used_variables(tree)))


# Evaluation


def _round(value: Fraction, places: Fraction, mode: str) -> Fraction:
    if places.denominator != 1 or not 0 <= places <= 10:
        raise FormulaError(gettext("小数位数必须是 0 到 10 的整数"))
    scale = 10 ** int(places)
    scaled = value * scale
    if mode == "floor":
        whole = scaled.numerator // scaled.denominator
    elif mode == "ceil":
        whole = -((-scaled.numerator) // scaled.denominator)
    else:  # 四舍五入: halves away from zero, as money is rounded
        magnitude = abs(scaled)
        whole = (2 * magnitude.numerator + magnitude.denominator) // (2 * magnitude.denominator)
        whole = -whole if scaled < 0 else whole
    return Fraction(whole, scale)


_COMPARE = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
}


def _evaluate(node, values: Mapping[str, Fraction]) -> Fraction:
    if isinstance(node, _Number):
        return node.value
    if isinstance(node, _Variable):
        return values[node.name]
    if isinstance(node, _Unary):
        operand = _evaluate(node.operand, values)
        return -operand if node.operator == "-" else operand
    if isinstance(node, _Binary):
        left, right = _evaluate(node.left, values), _evaluate(node.right, values)
        if node.operator == "+":
            return left + right
        if node.operator == "-":
            return left - right
        if node.operator == "*":
            return left * right
        if node.operator == "/":
            if right == 0:
                raise FormulaError(gettext("除数为零"), node.position)
            return left / right
        return Fraction(1 if _COMPARE[node.operator](left, right) else 0)
    if node.function == "if":
        condition, then, otherwise = node.arguments
        # Only the branch taken is evaluated, so 如果(人数 > 0, 总额 / 人数, 0) is safe.
        return _evaluate(then if _evaluate(condition, values) != 0 else otherwise, values)
    arguments = [_evaluate(argument, values) for argument in node.arguments]
    if node.function == "min":
        return min(arguments)
    if node.function == "max":
        return max(arguments)
    if node.function == "abs":
        return abs(arguments[0])
    places = arguments[1] if len(arguments) > 1 else Fraction(0)
    return _round(arguments[0], places, node.function)


def _values(compiled: CompiledFormula, variables: Mapping[str, Number | str]) -> dict[str, Fraction]:
    values = {}
    for name in sorted(compiled.variables):
        if name not in variables or variables[name] is None:
            raise FormulaError(gettext("缺少变量「%(name)s」的值") % {"name": name})
        try:
            values[name] = to_fraction(variables[name])
        except InvalidAmount as error:
            message = gettext("变量「%(name)s」的值无效：%(error)s") % {"name": name, "error": error}
            raise FormulaError(message) from None
    return values


def evaluate_exact(compiled: CompiledFormula, variables: Mapping[str, Number | str]) -> Fraction:
    """The exact value of the formula, for callers that round once afterwards."""
    return _evaluate(compiled.tree, _values(compiled, variables))


def evaluate(compiled: CompiledFormula, variables: Mapping[str, Number | str]) -> Decimal:
    """The value of the formula as a Decimal (exact whenever it fits in 34 significant digits)."""
    value = evaluate_exact(compiled, variables)
    with localcontext() as context:
        context.prec = 34
        return Decimal(value.numerator) / Decimal(value.denominator)


def _shown(value: Number | str) -> str:
    """A value as the bill states it: 120.50 stays 120.50; an exact fraction is shown in decimals."""
    text = describe_number(value)[0] if isinstance(value, Fraction) else f"{to_decimal(value):f}"
    return f"({text})" if text.startswith("-") else text


def _render(node, values: Mapping[str, str] | None, parent: int = 0, right_side: bool = False) -> str:
    if isinstance(node, _Number):
        return node.text
    if isinstance(node, _Variable):
        return node.name if values is None else values[node.name]
    if isinstance(node, _Unary):
        return node.operator + _render(node.operand, values, 4)
    if isinstance(node, _Call):
        return f"{node.written}({', '.join(_render(argument, values) for argument in node.arguments)})"
    precedence = _PRECEDENCE[node.operator]
    symbol = {"*": "×", "/": "÷"}.get(node.operator, node.operator)
    text = f"{_render(node.left, values, precedence)} {symbol} {_render(node.right, values, precedence, True)}"
    if precedence < parent or (right_side and precedence == parent):
        return f"({text})"
    return text


def explain(compiled: CompiledFormula, variables: Mapping[str, Number | str]) -> str:
    """The formula with the bill's values in place of the names, and its exact (or ≈) result.

    面积 × 单价 × 月数 with 120.50, 1.80 and 1 reads 「120.50 × 1.80 × 1 = 216.90」.
    """
    values = _values(compiled, variables)
    result, exact = describe_number(_evaluate(compiled.tree, values), min_places=2)
    shown = {name: _shown(variables[name]) for name in values}
    return f"{_render(compiled.tree, shown)} {'=' if exact else '≈'} {result}"


def render(compiled: CompiledFormula) -> str:
    """The formula as written, with × and ÷, for the computation's first line."""
    return _render(compiled.tree, None)
