"""One generator per field type of the Genfile language."""

from __future__ import annotations

from datastorm_core.source.generators.base import Generator, GeneratorContext
from datastorm_core.source.generators.brazil import (
    CepGenerator,
    CnpjGenerator,
    CpfGenerator,
    PhoneGenerator,
)
from datastorm_core.source.generators.business import CompanyGenerator, TextGenerator
from datastorm_core.source.generators.children import OrdinalGenerator, TotalGenerator
from datastorm_core.source.generators.choice import ChoiceGenerator
from datastorm_core.source.generators.derived import HashGenerator, TemplateGenerator
from datastorm_core.source.generators.expr import ExprGenerator
from datastorm_core.source.generators.lifecycle import LifecycleGenerator
from datastorm_core.source.generators.network import IpGenerator
from datastorm_core.source.generators.numeric import (
    BoolGenerator,
    DecimalGenerator,
    FloatGenerator,
    IntGenerator,
    SequenceGenerator,
)
from datastorm_core.source.generators.person import (
    EmailGenerator,
    FirstNameGenerator,
    LastNameGenerator,
    NameGenerator,
)
from datastorm_core.source.generators.places import (
    AddressGenerator,
    CityGenerator,
    PostcodeGenerator,
    StateGenerator,
)
from datastorm_core.source.generators.plugin import PluginGenerator
from datastorm_core.source.generators.reference import ReferenceGenerator
from datastorm_core.source.generators.strings import (
    BytesGenerator,
    StringGenerator,
    UuidGenerator,
)
from datastorm_core.source.generators.structured import ArrayGenerator, JsonGenerator
from datastorm_core.source.generators.temporal import (
    DateGenerator,
    IntervalGenerator,
    TimeGenerator,
    TimestampGenerator,
)
from datastorm_core.source.generators.words import WordGenerator

__all__ = ["GENERATORS", "Generator", "GeneratorContext"]

GENERATORS: dict[str, type[Generator]] = {
    "sequence": SequenceGenerator,
    "int": IntGenerator,
    "float": FloatGenerator,
    "decimal": DecimalGenerator,
    "bool": BoolGenerator,
    "choice": ChoiceGenerator,
    "string": StringGenerator,
    "uuid": UuidGenerator,
    "date": DateGenerator,
    "timestamp": TimestampGenerator,
    "name": NameGenerator,
    "first_name": FirstNameGenerator,
    "last_name": LastNameGenerator,
    "email": EmailGenerator,
    "reference": ReferenceGenerator,
    "cpf": CpfGenerator,
    "cnpj": CnpjGenerator,
    "cep": CepGenerator,
    "postcode": PostcodeGenerator,
    "phone": PhoneGenerator,
    "state": StateGenerator,
    "city": CityGenerator,
    "address": AddressGenerator,
    "company": CompanyGenerator,
    "text": TextGenerator,
    "template": TemplateGenerator,
    "hash": HashGenerator,
    "word": WordGenerator,
    "json": JsonGenerator,
    "array": ArrayGenerator,
    "ip": IpGenerator,
    "interval": IntervalGenerator,
    "bytes": BytesGenerator,
    "time": TimeGenerator,
    "ordinal": OrdinalGenerator,
    "total": TotalGenerator,
    "expr": ExprGenerator,
    "lifecycle": LifecycleGenerator,
    "plugin": PluginGenerator,  # a generator of the user's own (genfile.plugins)
}
