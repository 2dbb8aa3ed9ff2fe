"""Demo content of Villaclara del Río: news articles, institutional pages, FAQs and videos.

Everything is fictional (the town, its streets, its people and the video ids). The content is
deterministic for a given day (publication dates are relative to today's midnight) and it is all
published and live, so the public pages show it straight after `manage.py seed_demo`. It runs
after the contacts seeder but does not depend on it: missing topics are created with the same
slugs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from contacts.demo import TOPICS  # one taxonomy for the whole demo
from contacts.models import Topic
from content.models import FAQ, Article, Page, Publishable, Status, Video
from inbound.lib.pagecache import public_pages_invalidate

P = TypeVar("P", bound=Publishable)

BYLINES = (
    "Gabinete de Comunicación",
    "Lucía Herrero, Gabinete de Comunicación",
    "Andrés Molina, Gabinete de Comunicación",
)


@dataclass(frozen=True)
class Translation:
    title: str
    slug: str
    summary: str
    body: str


@dataclass(frozen=True)
class DemoArticle:
    slug: str
    topics: tuple[str, ...]
    title: str
    summary: str
    keyword: str
    days_ago: int
    intro: str
    heading: str
    details: str
    items: tuple[str, ...]
    link: tuple[str, str]
    translations: dict[str, Translation] = field(default_factory=dict)

    def body(self) -> str:
        items = "".join(f"<li>{item}</li>" for item in self.items)
        text, href = self.link
        return (
            f"<p>{self.intro}</p><h2>{self.heading}</h2><p>{self.details}</p>"
            f'<ul>{items}</ul><p>Más información: <a href="{href}">{text}</a>.</p>'
        )


ARTICLES: list[DemoArticle] = [
    DemoArticle(
        slug="nuevo-carril-bici-avenida-del-rio",
        topics=("movilidad", "medio-ambiente"),
        title="El nuevo carril bici de la avenida del Río abre el 1 de marzo",
        summary=(
            "Dos kilómetros y medio de carril protegido unirán la estación con el polideportivo "
            "de Los Olivos, con aparcabicis y semáforos propios."
        ),
        keyword="carril bici",
        days_ago=4,
        intro=(
            "El Ayuntamiento de Villaclara del Río abrirá el 1 de marzo el carril bici de la "
            "avenida del Río, un trazado segregado de 2,5 kilómetros que une la estación de "
            "tren con el polideportivo municipal de Los Olivos."
        ),
        heading="Un trazado protegido y continuo",
        details=(
            "El carril es bidireccional, está separado del tráfico por una franja ajardinada y "
            "tiene semáforos propios en los cuatro cruces principales. Las obras han costado "
            "640.000 euros, financiados en parte con fondos europeos de movilidad sostenible."
        ),
        items=(
            "120 plazas nuevas de aparcabicis en la estación, el mercado y el polideportivo.",
            "Iluminación LED en todo el recorrido.",
            "Conexión con el anillo verde de la Ribera.",
        ),
        link=("Movilidad en Villaclara", "/es/temas/movilidad/"),
        translations={
            "en": Translation(
                title="The new cycle lane on Avenida del Río opens on 1 March",
                slug="new-cycle-lane-avenida-del-rio",
                summary=(
                    "Two and a half kilometres of protected cycle lane will link the station "
                    "with the Los Olivos sports centre."
                ),
                body=(
                    "<p>Villaclara del Río City Council will open the Avenida del Río cycle lane "
                    "on 1 March: 2.5 km of segregated track from the railway station to the Los "
                    "Olivos sports centre.</p><h2>Protected all the way</h2><p>The lane is "
                    "two-way, separated from traffic by a planted strip and has its own traffic "
                    "lights at the four main junctions.</p><ul><li>120 new bike racks.</li>"
                    "<li>LED lighting along the whole route.</li></ul><p>More information: "
                    '<a href="/en/topics/movilidad/">Mobility in Villaclara</a>.</p>'
                ),
            ),
            "ca": Translation(
                title="El nou carril bici de l'avinguda del Riu obre l'1 de març",
                slug="nou-carril-bici-avinguda-del-riu",
                summary=(
                    "Dos quilòmetres i mig de carril protegit uniran l'estació amb el "
                    "poliesportiu de Los Olivos."
                ),
                body=(
                    "<p>L'Ajuntament de Villaclara del Río obrirà l'1 de març el carril bici de "
                    "l'avinguda del Riu, un traçat segregat de 2,5 quilòmetres entre l'estació i "
                    "el poliesportiu de Los Olivos.</p><h2>Un traçat protegit</h2><p>El carril "
                    "és bidireccional i té semàfors propis als quatre encreuaments principals."
                    "</p><ul><li>120 places noves d'aparcament de bicicletes.</li><li>Enllumenat "
                    "LED a tot el recorregut.</li></ul>"
                ),
            ),
        },
    ),
    DemoArticle(
        slug="bus-urbano-linea-4-horario-ampliado",
        topics=("movilidad",),
        title="La línea 4 del autobús urbano amplía su horario hasta las 23:30",
        summary=(
            "Desde el lunes, la línea 4 entre Valdelobos y el Centro de Salud circula cada "
            "20 minutos y añade tres servicios nocturnos de lunes a sábado."
        ),
        keyword="autobús urbano",
        days_ago=11,
        intro=(
            "La línea 4 del autobús urbano, que une Valdelobos con el Centro de Salud de La "
            "Estación, amplía su horario hasta las 23:30 y reduce la frecuencia a 20 minutos."
        ),
        heading="Qué cambia para las personas usuarias",
        details=(
            "El cambio responde a las más de 300 peticiones recibidas en el buzón ciudadano y en "
            "el proceso participativo de movilidad del año pasado."
        ),
        items=(
            "Primer servicio a las 6:40 y último a las 23:30.",
            "Tres nuevas paradas en Las Eras y Fuente Vieja.",
            "El bono joven sigue costando 10 euros al mes.",
        ),
        link=("todas las noticias", "/es/noticias/"),
    ),
    DemoArticle(
        slug="zona-bajas-emisiones-fase-informativa",
        topics=("movilidad", "medio-ambiente"),
        title="La zona de bajas emisiones empieza con seis meses informativos",
        summary=(
            "Hasta septiembre no habrá multas en la zona de bajas emisiones del Centro: los "
            "vehículos sin etiqueta recibirán solo avisos por correo."
        ),
        keyword="zona de bajas emisiones",
        days_ago=23,
        intro=(
            "La zona de bajas emisiones del casco histórico entra en funcionamiento con una "
            "fase informativa de seis meses en la que no se impondrán sanciones."
        ),
        heading="Quién puede circular",
        details=(
            "Podrán entrar sin restricciones las personas empadronadas en el Centro, los "
            "vehículos con etiqueta ambiental, los servicios de emergencia y los vehículos de "
            "personas con movilidad reducida."
        ),
        items=(
            "Cámaras en los ocho accesos al casco histórico.",
            "Solicitud de autorizaciones en la sede electrónica.",
            "Aparcamientos disuasorios gratuitos en La Estación y El Prado.",
        ),
        link=("Sede electrónica", "/es/paginas/sede-electronica/"),
    ),
    DemoArticle(
        slug="recogida-organica-todos-los-barrios",
        topics=("medio-ambiente",),
        title="El contenedor marrón llega a todos los barrios de Villaclara",
        summary=(
            "La recogida separada de residuos orgánicos se extiende a los diez distritos; el "
            "Ayuntamiento reparte cubos de cocina gratuitos en los centros cívicos."
        ),
        keyword="contenedor marrón",
        days_ago=30,
        intro=(
            "Tras un año de prueba en Ensanche y Ribera, la recogida del contenedor marrón "
            "para restos orgánicos llega a todos los barrios del municipio."
        ),
        heading="Qué va en el contenedor marrón",
        details=(
            "Restos de comida, posos de café, servilletas de papel usadas y pequeños restos de "
            "jardín. Separar la materia orgánica reduce a la mitad lo que acaba en el vertedero."
        ),
        items=(
            "Cubos de cocina de 10 litros y bolsas compostables gratis.",
            "Recogida diaria de 22:00 a 5:00.",
            "Compostaje comunitario en los huertos urbanos de Las Eras.",
        ),
        link=("preguntas frecuentes", "/es/preguntas-frecuentes/"),
    ),
    DemoArticle(
        slug="plan-arbolado-urbano-1500-arboles",
        topics=("medio-ambiente", "urbanismo"),
        title="Villaclara plantará 1.500 árboles en calles y patios escolares",
        summary=(
            "El plan de arbolado urbano prioriza las calles con más calor en verano y los patios "
            "de los colegios públicos para crear refugios climáticos."
        ),
        keyword="arbolado urbano",
        days_ago=38,
        intro=(
            "El pleno ha aprobado el plan de arbolado urbano 2025-2028, que plantará 1.500 "
            "árboles de especies autóctonas en cuatro años."
        ),
        heading="Sombra donde más se necesita",
        details=(
            "Los técnicos municipales han elaborado un mapa de calor del municipio. Las calles "
            "de La Estación y San Roque, con menos sombra, serán las primeras."
        ),
        items=(
            "Encinas, fresnos, almeces y moreras.",
            "Riego por goteo con agua regenerada.",
            "Un árbol por cada bebé empadronado, a petición de las familias.",
        ),
        link=("Medio ambiente", "/es/temas/medio-ambiente/"),
    ),
    DemoArticle(
        slug="festival-musica-ribera-programa",
        topics=("cultura",),
        title="El Festival de la Ribera presenta su programa con 30 conciertos gratuitos",
        summary=(
            "Del 12 al 21 de julio, la orilla del río acoge jazz, flamenco y bandas locales; "
            "todas las actuaciones son gratuitas y accesibles."
        ),
        keyword="festival de la Ribera",
        days_ago=45,
        intro=(
            "La concejalía de Cultura ha presentado la decimoquinta edición del Festival de la "
            "Ribera, que llenará de música los jardines junto al río durante diez días."
        ),
        heading="Un festival para todos los públicos",
        details=(
            "El escenario principal tendrá bucle magnético, zona reservada para personas en "
            "silla de ruedas e interpretación en lengua de signos en los conciertos de la noche."
        ),
        items=(
            "Conciertos familiares a las 19:00.",
            "Escenario para bandas locales los fines de semana.",
            "Autobús lanzadera gratuito desde el Centro.",
        ),
        link=("agenda cultural", "/es/temas/cultura/"),
        translations={
            "en": Translation(
                title="The Ribera Festival unveils a programme of 30 free concerts",
                slug="ribera-festival-programme",
                summary="From 12 to 21 July the riverside hosts jazz, flamenco and local bands.",
                body=(
                    "<p>The 15th Ribera Festival will fill the riverside gardens with music for "
                    "ten days, and every concert is free.</p><h2>For everyone</h2><p>The main "
                    "stage has a hearing loop, a reserved area for wheelchair users and sign "
                    "language interpreting at the evening concerts.</p><ul><li>Family concerts "
                    "at 7 pm.</li><li>Free shuttle bus from the town centre.</li></ul>"
                ),
            ),
        },
    ),
    DemoArticle(
        slug="biblioteca-municipal-horario-examenes",
        topics=("cultura", "educacion"),
        title="La Biblioteca Municipal abre hasta la medianoche en época de exámenes",
        summary=(
            "Del 15 de mayo al 30 de junio, la sala de estudio de la Biblioteca Municipal abre "
            "todos los días de 8:00 a 24:00, también los festivos."
        ),
        keyword="biblioteca municipal",
        days_ago=52,
        intro=(
            "La Biblioteca Municipal Rosa Chacel amplía su horario para que el alumnado de "
            "bachillerato y universidad pueda preparar los exámenes."
        ),
        heading="Horario especial",
        details=(
            "La sala de estudio tiene 180 puestos con enchufe y wifi. No hace falta reservar: "
            "basta con el carné de la biblioteca, que se obtiene al momento en el mostrador."
        ),
        items=(
            "De lunes a domingo, de 8:00 a 24:00.",
            "Préstamo de portátiles durante cuatro horas.",
            "Fuente de agua y zona de descanso en la planta baja.",
        ),
        link=("Educación", "/es/temas/educacion/"),
    ),
    DemoArticle(
        slug="teatro-principal-reapertura",
        topics=("cultura", "urbanismo"),
        title="El Teatro Principal reabre tras dos años de rehabilitación",
        summary=(
            "El Teatro Principal recupera su fachada de 1912, gana accesibilidad con un nuevo "
            "ascensor y estrena temporada con compañías de toda España."
        ),
        keyword="Teatro Principal",
        days_ago=60,
        intro=(
            "Después de dos años de obras, el Teatro Principal de Villaclara vuelve a abrir sus "
            "puertas con un aforo de 420 butacas y una programación estable todo el año."
        ),
        heading="Un edificio accesible",
        details=(
            "La rehabilitación ha incorporado un ascensor, rampas, aseos adaptados y espacios "
            "reservados en patio de butacas y anfiteatro."
        ),
        items=(
            "Visitas guiadas gratuitas el primer sábado de cada mes.",
            "Descuento del 50 % para menores de 30 años.",
            "Venta de entradas en taquilla y en la web municipal.",
        ),
        link=("Cultura", "/es/temas/cultura/"),
    ),
    DemoArticle(
        slug="plan-empleo-joven-2025",
        topics=("empleo",),
        title="El Plan de Empleo Joven ofrece 80 contratos de un año",
        summary=(
            "Personas de 18 a 29 años inscritas como demandantes de empleo pueden optar a 80 "
            "contratos municipales de un año con formación incluida."
        ),
        keyword="empleo joven",
        days_ago=67,
        intro=(
            "El Ayuntamiento abre el plazo del Plan de Empleo Joven, que contratará durante un "
            "año a 80 personas jóvenes en servicios municipales."
        ),
        heading="Requisitos y plazo",
        details=(
            "Hay que tener entre 18 y 29 años, estar empadronado en Villaclara y figurar como "
            "demandante de empleo. La solicitud se presenta en la sede electrónica hasta el 30 "
            "de abril."
        ),
        items=(
            "Puestos en jardinería, archivo, deportes y atención ciudadana.",
            "150 horas de formación certificada.",
            "Salario según el convenio municipal.",
        ),
        link=("tramitar en la sede electrónica", "/es/paginas/sede-electronica/"),
        translations={
            "en": Translation(
                title="The Youth Employment Plan offers 80 one-year contracts",
                slug="youth-employment-plan-2025",
                summary=(
                    "People aged 18 to 29 registered as job seekers can apply for 80 one-year "
                    "contracts with the council."
                ),
                body=(
                    "<p>The council is hiring 80 young people for a year in municipal services."
                    "</p><h2>Who can apply</h2><p>Applicants must be aged 18 to 29, be "
                    "registered in Villaclara and be registered as job seekers.</p><ul><li>Jobs "
                    "in gardening, archives, sports and citizen services.</li><li>150 hours of "
                    "certified training.</li></ul>"
                ),
            ),
        },
    ),
    DemoArticle(
        slug="vivero-empresas-convocatoria",
        topics=("empleo", "urbanismo"),
        title="El vivero de empresas abre convocatoria para doce nuevos proyectos",
        summary=(
            "Oficinas a 50 euros al mes, asesoría gratuita y mentoría durante dos años para "
            "proyectos emprendedores con sede en Villaclara del Río."
        ),
        keyword="vivero de empresas",
        days_ago=74,
        intro=(
            "El vivero de empresas de La Estación, situado en la antigua nave del ferrocarril, "
            "busca doce proyectos emprendedores para su nueva promoción."
        ),
        heading="Qué ofrece el vivero",
        details=(
            "Las empresas seleccionadas disponen de una oficina equipada, sala de reuniones, "
            "asesoría fiscal y jurídica y un programa de mentoría con empresariado local."
        ),
        items=(
            "Alquiler de 50 euros al mes durante dos años.",
            "Prioridad para proyectos de economía social y verde.",
            "Plazo de solicitud: hasta el 15 de mayo.",
        ),
        link=("Empleo", "/es/temas/empleo/"),
    ),
    DemoArticle(
        slug="feria-empleo-comercio-local",
        topics=("empleo",),
        title="La Feria de Empleo reúne a 45 empresas de la comarca",
        summary=(
            "La Feria de Empleo del 8 de mayo en el pabellón ferial ofrece entrevistas en el "
            "momento, talleres de currículum y más de 300 ofertas."
        ),
        keyword="feria de empleo",
        days_ago=88,
        intro=(
            "Cuarenta y cinco empresas de la comarca participarán en la Feria de Empleo de "
            "Villaclara del Río, que se celebra el 8 de mayo en el pabellón ferial."
        ),
        heading="Cómo preparar la visita",
        details=(
            "Conviene llevar varias copias del currículum. La Agencia de Desarrollo Local ofrece "
            "una revisión gratuita del currículum la semana anterior, con cita previa."
        ),
        items=(
            "Entrada libre de 10:00 a 18:00.",
            "Talleres de entrevista cada hora.",
            "Espacio infantil gratuito.",
        ),
        link=("todas las noticias", "/es/noticias/"),
    ),
    DemoArticle(
        slug="ayudas-alquiler-jovenes-familias",
        topics=("servicios-sociales", "urbanismo"),
        title="Nuevas ayudas al alquiler para jóvenes y familias monoparentales",
        summary=(
            "Hasta 250 euros al mes durante un año para inquilinos menores de 35 años y familias "
            "monoparentales con ingresos por debajo de tres veces el IPREM."
        ),
        keyword="ayudas al alquiler",
        days_ago=95,
        intro=(
            "La concejalía de Servicios Sociales convoca ayudas al alquiler de vivienda "
            "habitual por un importe total de 600.000 euros."
        ),
        heading="Cuantía y requisitos",
        details=(
            "La ayuda cubre hasta el 40 % de la renta, con un máximo de 250 euros al mes. El "
            "contrato debe estar a nombre de la persona solicitante y la vivienda en el municipio."
        ),
        items=(
            "Menores de 35 años o familias monoparentales.",
            "Ingresos de la unidad familiar inferiores a tres veces el IPREM.",
            "Solicitud en la sede electrónica o en la Oficina de Atención Ciudadana.",
        ),
        link=("Servicios sociales", "/es/temas/servicios-sociales/"),
    ),
    DemoArticle(
        slug="teleasistencia-mayores-gratuita",
        topics=("servicios-sociales",),
        title="La teleasistencia será gratuita para mayores de 80 años que vivan solos",
        summary=(
            "El servicio de teleasistencia municipal deja de cobrar a las personas mayores de 80 "
            "años que viven solas y añade detectores de humo y de caídas."
        ),
        keyword="teleasistencia",
        days_ago=103,
        intro=(
            "Más de 900 personas mayores usan ya la teleasistencia municipal. A partir de este "
            "mes, el servicio será gratuito para quienes tengan más de 80 años y vivan solos."
        ),
        heading="Cómo solicitarla",
        details=(
            "Basta con pedir cita con la trabajadora social del centro de servicios sociales del "
            "distrito o llamar al 010. La instalación se hace en menos de diez días."
        ),
        items=(
            "Pulsador de emergencia 24 horas.",
            "Detectores de humo, gas y caídas.",
            "Llamadas de seguimiento semanales.",
        ),
        link=("preguntas frecuentes", "/es/preguntas-frecuentes/"),
        translations={
            "ca": Translation(
                title="La teleassistència serà gratuïta per a majors de 80 anys que viuen sols",
                slug="teleassistencia-gratuita-majors",
                summary=(
                    "El servei de teleassistència municipal serà gratuït per a les persones "
                    "majors de 80 anys que viuen soles."
                ),
                body=(
                    "<p>Més de 900 persones grans ja fan servir la teleassistència municipal. "
                    "A partir d'aquest mes serà gratuïta per a qui tingui més de 80 anys i visqui "
                    "sol.</p><h2>Com sol·licitar-la</h2><p>Demaneu cita al centre de serveis "
                    "socials del districte o truqueu al 010.</p><ul><li>Polsador d'emergència "
                    "24 hores.</li><li>Detectors de fum i de caigudes.</li></ul>"
                ),
            ),
        },
    ),
    DemoArticle(
        slug="comedor-social-nuevo-local",
        topics=("servicios-sociales",),
        title="El comedor social se traslada a un local más amplio en San Roque",
        summary=(
            "El comedor social de Villaclara duplica sus plazas en su nuevo local de San Roque y "
            "abre también por la noche gracias a entidades voluntarias."
        ),
        keyword="comedor social",
        days_ago=117,
        intro=(
            "El comedor social municipal, gestionado junto a Cáritas y Cruz Roja, estrena local "
            "en la calle Molino, 14, en el barrio de San Roque."
        ),
        heading="Más plazas y más horas",
        details=(
            "El nuevo espacio tiene 120 plazas y cocina propia. Además de comidas, ofrece "
            "duchas, lavandería y orientación social sin cita previa."
        ),
        items=(
            "Comidas de 13:00 a 15:00 y cenas de 20:00 a 21:30.",
            "Acceso derivado por los servicios sociales o por las entidades.",
            "Se buscan personas voluntarias los fines de semana.",
        ),
        link=("Servicios sociales", "/es/temas/servicios-sociales/"),
    ),
    DemoArticle(
        slug="plan-general-urbanismo-participacion",
        topics=("urbanismo",),
        title="Abierta la participación ciudadana en el nuevo Plan General",
        summary=(
            "Vecinos y vecinas pueden enviar propuestas al avance del Plan General de Ordenación "
            "Urbana hasta el 31 de mayo, en línea o en los centros cívicos."
        ),
        keyword="plan general",
        days_ago=124,
        intro=(
            "El avance del Plan General de Ordenación Urbana, que ordenará el crecimiento de "
            "Villaclara durante los próximos quince años, está en exposición pública."
        ),
        heading="Cómo participar",
        details=(
            "Los documentos pueden consultarse en la sede electrónica y en la planta baja del "
            "Ayuntamiento. Habrá sesiones informativas en cada distrito."
        ),
        items=(
            "Propuestas en línea a través de la sede electrónica.",
            "Diez sesiones abiertas en los centros cívicos.",
            "Un informe público responderá a cada aportación.",
        ),
        link=("Sede electrónica", "/es/paginas/sede-electronica/"),
    ),
    DemoArticle(
        slug="reforma-plaza-mayor-obras",
        topics=("urbanismo", "movilidad"),
        title="La reforma de la Plaza Mayor la hará peatonal y con más sombra",
        summary=(
            "Las obras de la Plaza Mayor empiezan en octubre y durarán ocho meses; el mercado de "
            "los sábados se traslada temporalmente al paseo de la Estación."
        ),
        keyword="Plaza Mayor",
        days_ago=131,
        intro=(
            "La Plaza Mayor será completamente peatonal, con pavimento drenante, nuevos árboles "
            "y una pérgola con placas solares que dará sombra a la zona de juegos."
        ),
        heading="Cortes de tráfico durante las obras",
        details=(
            "Las calles Real y Mayor se cortarán al tráfico por fases. El acceso a garajes y la "
            "carga y descarga estarán garantizados en horario de mañana."
        ),
        items=(
            "Inicio de las obras: 1 de octubre.",
            "Duración prevista: ocho meses.",
            "Mercado de los sábados en el paseo de la Estación.",
        ),
        link=("Urbanismo", "/es/temas/urbanismo/"),
    ),
    DemoArticle(
        slug="piscinas-municipales-temporada-verano",
        topics=("deportes",),
        title="Las piscinas municipales abren el 15 de junio con precios congelados",
        summary=(
            "Las tres piscinas de verano abren del 15 de junio al 8 de septiembre; la entrada "
            "sigue a 3 euros y es gratis para menores de 6 años."
        ),
        keyword="piscinas municipales",
        days_ago=138,
        intro=(
            "Las piscinas de verano de Los Olivos, El Prado y Fuente Vieja abren la temporada "
            "con los mismos precios que el año pasado."
        ),
        heading="Horarios y abonos",
        details=(
            "Las piscinas abren de 11:00 a 20:30. El abono de temporada cuesta 45 euros, con "
            "descuentos para familias numerosas, pensionistas y personas con discapacidad."
        ),
        items=(
            "Entrada general: 3 euros.",
            "Gratis para menores de 6 años.",
            "Cursos de natación de julio: inscripción desde el 1 de junio.",
        ),
        link=("Deportes", "/es/temas/deportes/"),
    ),
    DemoArticle(
        slug="carrera-popular-villaclara",
        topics=("deportes", "cultura"),
        title="La Carrera Popular de Villaclara bate su récord con 2.400 inscritos",
        summary=(
            "La Carrera Popular del domingo tendrá recorridos de 5 y 10 kilómetros, carrera "
            "infantil y cortes de tráfico en el Centro entre las 8:30 y las 13:00."
        ),
        keyword="carrera popular",
        days_ago=152,
        intro=(
            "La trigésima Carrera Popular de Villaclara del Río reunirá este domingo a 2.400 "
            "corredores y corredoras, la cifra más alta de su historia."
        ),
        heading="Recorridos y cortes de tráfico",
        details=(
            "La salida y la meta estarán en la Plaza del Ayuntamiento. La Policía Local cortará "
            "el tráfico en la avenida del Río y en la ronda Norte durante la prueba."
        ),
        items=(
            "Salida de los 10 km a las 9:30 y de los 5 km a las 9:45.",
            "Carrera infantil a las 12:00.",
            "Lo recaudado se destina al banco de alimentos.",
        ),
        link=("Deportes", "/es/temas/deportes/"),
    ),
    DemoArticle(
        slug="escuelas-deportivas-inscripcion",
        topics=("deportes", "educacion"),
        title="Abiertas las inscripciones de las escuelas deportivas municipales",
        summary=(
            "Más de 20 disciplinas para niñas y niños de 4 a 16 años, con becas para familias "
            "con menos ingresos y grupos de deporte inclusivo."
        ),
        keyword="escuelas deportivas",
        days_ago=160,
        intro=(
            "Las escuelas deportivas municipales abren el plazo de inscripción para el curso "
            "que viene, con más de 1.800 plazas en 20 disciplinas."
        ),
        heading="Deporte para todos",
        details=(
            "Este curso se añaden escalada, bádminton y un grupo de deporte inclusivo para "
            "menores con discapacidad, con monitores especializados."
        ),
        items=(
            "Cuota trimestral de 35 euros.",
            "Becas de hasta el 100 % según ingresos.",
            "Inscripción en la sede electrónica del 1 al 20 de septiembre.",
        ),
        link=("Sede electrónica", "/es/paginas/sede-electronica/"),
    ),
    DemoArticle(
        slug="escuela-infantil-municipal-plazas",
        topics=("educacion", "servicios-sociales"),
        title="La nueva escuela infantil de Las Eras suma 82 plazas de 0 a 3 años",
        summary=(
            "La escuela infantil municipal de Las Eras abre en septiembre con 82 plazas, comedor "
            "propio y cuotas según la renta de cada familia."
        ),
        keyword="escuela infantil",
        days_ago=167,
        intro=(
            "Villaclara del Río tendrá en septiembre su tercera escuela infantil municipal, en "
            "el barrio de Las Eras, con 82 plazas para niñas y niños de 0 a 3 años."
        ),
        heading="Admisión y cuotas",
        details=(
            "La admisión se baremará según la situación laboral, la renta y la cercanía del "
            "domicilio. Las familias con menos ingresos no pagarán cuota."
        ),
        items=(
            "Horario de 7:30 a 17:00.",
            "Cocina propia con productos de temporada.",
            "Solicitudes del 2 al 20 de mayo.",
        ),
        link=("Educación", "/es/temas/educacion/"),
    ),
    DemoArticle(
        slug="camino-escolar-seguro",
        topics=("educacion", "movilidad"),
        title="Seis colegios estrenan camino escolar seguro",
        summary=(
            "Pasos de peatones elevados, calles de coexistencia y voluntariado en las entradas "
            "para que el alumnado pueda ir al colegio a pie o en bici."
        ),
        keyword="camino escolar",
        days_ago=175,
        intro=(
            "El programa Camino Escolar Seguro llega a seis colegios públicos de Villaclara con "
            "mejoras en las calles de alrededor y un equipo de voluntariado."
        ),
        heading="Qué mejoras se han hecho",
        details=(
            "Se han elevado doce pasos de peatones, se ha limitado la velocidad a 20 km/h en el "
            "entorno de los centros y se han instalado aparcabicis en todos ellos."
        ),
        items=(
            "Calles cortadas al tráfico a la entrada y salida.",
            "Señalización pintada por el propio alumnado.",
            "Personas mayores voluntarias en los cruces.",
        ),
        link=("Movilidad", "/es/temas/movilidad/"),
    ),
    DemoArticle(
        slug="presupuestos-participativos-resultados",
        topics=("urbanismo", "medio-ambiente"),
        title="Los presupuestos participativos eligen 14 proyectos vecinales",
        summary=(
            "Más de 6.000 personas votaron los presupuestos participativos: ganan los huertos "
            "urbanos, la sombra en parques y la mejora de aceras en Valdelobos."
        ),
        keyword="presupuestos participativos",
        days_ago=180,
        intro=(
            "La votación de los presupuestos participativos ha terminado con 6.214 votos y 14 "
            "proyectos elegidos, que suman 1,2 millones de euros."
        ),
        heading="Los proyectos más votados",
        details=(
            "Los proyectos se incluirán en el presupuesto municipal del año próximo y su "
            "ejecución podrá seguirse en la web del Ayuntamiento."
        ),
        items=(
            "Huertos urbanos en Fuente Vieja.",
            "Toldos y arbolado en los parques infantiles.",
            "Aceras accesibles en Valdelobos.",
        ),
        link=("todas las noticias", "/es/noticias/"),
    ),
]

# (slug, title, body, parent slug or None, meta description)
PAGES: list[tuple[str, str, str, str | None, str]] = [
    (
        "sede-electronica",
        "Sede electrónica",
        "<p>La sede electrónica del Ayuntamiento de Villaclara del Río permite hacer trámites "
        "las 24 horas con certificado digital, DNI electrónico o Cl@ve.</p>"
        "<h2>Trámites más habituales</h2><ul><li>Empadronamiento y certificados.</li>"
        "<li>Solicitud de ayudas y subvenciones.</li><li>Pago de tributos y multas.</li></ul>"
        '<p>Consulta las <a href="/es/preguntas-frecuentes/">preguntas frecuentes</a>.</p>',
        None,
        "Trámites municipales en línea las 24 horas: padrón, certificados, ayudas, tributos "
        "y registro electrónico del Ayuntamiento.",
    ),
    (
        "empadronamiento",
        "Empadronamiento",
        "<p>Empadronarse es obligatorio para toda persona que viva en Villaclara del Río y da "
        "acceso a servicios como la escuela infantil o las ayudas sociales.</p>"
        "<h2>Documentación</h2><ul><li>DNI, NIE o pasaporte.</li><li>Contrato de alquiler, "
        "escritura o autorización de la persona titular.</li></ul>"
        "<p>El certificado se descarga al momento desde la sede electrónica.</p>",
        "sede-electronica",
        "Cómo empadronarse en Villaclara del Río: documentación necesaria, cita previa y "
        "certificado de empadronamiento en línea.",
    ),
    (
        "oficina-atencion-ciudadana",
        "Oficina de Atención Ciudadana",
        "<p>La Oficina de Atención Ciudadana está en la Plaza Mayor, 1, y atiende de lunes a "
        "viernes de 9:00 a 14:00 y los jueves también de 16:00 a 19:00.</p>"
        "<h2>Cita previa</h2><p>Pide cita en el 010 o en la sede electrónica.</p>",
        None,
        "Dirección, horario y cita previa de la Oficina de Atención Ciudadana del "
        "Ayuntamiento de Villaclara del Río.",
    ),
]


@dataclass(frozen=True)
class DemoPillar:
    """A topic's pillar page: the long guide its articles link back to."""

    topic: str
    slug: str
    title: str
    guide: str  # how an article names it: "Más información en la guía de …"
    meta: str
    body: str


PILLARS: list[DemoPillar] = [
    DemoPillar(
        topic="movilidad",
        slug="guia-movilidad",
        title="Guía de movilidad en Villaclara del Río",
        guide="guía de movilidad",
        meta=(
            "Autobús urbano, carril bici, zona de bajas emisiones y aparcamientos: cómo moverse "
            "por Villaclara del Río sin complicaciones."
        ),
        body=(
            "<p>Villaclara del Río es una ciudad pequeña y llana. La mayoría de los trayectos "
            "se pueden hacer a pie, en bicicleta o en autobús urbano en menos de veinte "
            "minutos.</p>"
            "<h2>Autobús urbano</h2><p>Cuatro líneas unen los barrios con el Centro, la "
            "estación y el Centro de Salud. El billete sencillo cuesta un euro. Con la tarjeta "
            "bonificada, los mayores de 65 años viajan gratis.</p>"
            "<h2>Bicicleta y a pie</h2><p>El carril bici de la avenida del Río y el anillo "
            "verde de la Ribera forman una red segura. Hay aparcabicis en la estación, el "
            "mercado y los polideportivos.</p>"
            "<p>En el casco histórico hay una zona de bajas emisiones. Si vas en coche, "
            "consulta antes quién puede entrar y usa los aparcamientos disuasorios "
            "gratuitos.</p>"
        ),
    ),
    DemoPillar(
        topic="medio-ambiente",
        slug="guia-medio-ambiente",
        title="Guía de medio ambiente: residuos, árboles y clima",
        guide="guía de medio ambiente",
        meta=(
            "Cómo separar los residuos, dónde está el punto limpio y qué hace el Ayuntamiento "
            "por el arbolado y el clima en Villaclara del Río."
        ),
        body=(
            "<p>Cuidar el medio ambiente empieza en casa. Separar bien los residuos reduce a "
            "la mitad lo que acaba en el vertedero.</p>"
            "<h2>Residuos</h2><p>Usa el contenedor amarillo para envases, el azul para papel, "
            "el verde para vidrio y el marrón para restos de comida. Los muebles viejos se "
            "recogen gratis en casa si llamas al 010.</p>"
            "<p>El punto limpio de El Prado abre de martes a domingo. Allí puedes dejar "
            "pilas, aceite, pintura y aparatos eléctricos.</p>"
            "<h2>Árboles y sombra</h2><p>El plan de arbolado plantará 1.500 árboles en cuatro "
            "años. Primero se plantan en las calles con más calor y en los patios de los "
            "colegios.</p>"
        ),
    ),
    DemoPillar(
        topic="cultura",
        slug="guia-cultura",
        title="Guía de cultura: bibliotecas, teatro y festivales",
        guide="guía de cultura",
        meta=(
            "La Biblioteca Municipal, el Teatro Principal y el Festival de la Ribera: la oferta "
            "cultural de Villaclara del Río, casi siempre gratuita."
        ),
        body=(
            "<p>La cultura en Villaclara del Río es para todo el mundo. La mayoría de las "
            "actividades son gratuitas y accesibles.</p>"
            "<h2>Bibliotecas</h2><p>La Biblioteca Municipal presta libros, películas y "
            "ordenadores. El carné es gratis: solo necesitas tu DNI o NIE. En época de "
            "exámenes abre hasta la medianoche.</p>"
            "<h2>Teatro y música</h2><p>El Teatro Principal programa obras cada fin de "
            "semana. Los menores de 30 años pagan la mitad. En julio, el Festival de la Ribera "
            "llena el río de conciertos gratuitos.</p>"
            "<p>Todos los espacios tienen bucle magnético y plazas para personas en silla de "
            "ruedas.</p>"
        ),
    ),
    DemoPillar(
        topic="empleo",
        slug="guia-empleo",
        title="Guía de empleo: buscar trabajo y emprender",
        guide="guía de empleo",
        meta=(
            "Orientación laboral, cursos, ofertas de empleo público y ayudas para emprender "
            "en Villaclara del Río, con la Agencia de Desarrollo Local."
        ),
        body=(
            "<p>La Agencia de Desarrollo Local te ayuda a buscar trabajo o a crear tu "
            "empresa. Todos sus servicios son gratuitos y con cita previa.</p>"
            "<h2>Buscar trabajo</h2><p>Una orientadora revisa tu currículum y te ayuda a "
            "preparar entrevistas. Cada trimestre hay cursos de formación en comercio, "
            "cuidados y digitalización.</p>"
            "<p>Las ofertas de empleo público del Ayuntamiento se publican en la sede "
            "electrónica. Si te suscribes al tema Empleo, te llegan por correo.</p>"
            "<h2>Emprender</h2><p>El vivero de empresas ofrece oficinas a bajo precio y "
            "asesoría durante los dos primeros años.</p>"
        ),
    ),
    DemoPillar(
        topic="servicios-sociales",
        slug="guia-servicios-sociales",
        title="Guía de servicios sociales para vecinos y familias",
        guide="guía de servicios sociales",
        meta=(
            "Ayudas, teleasistencia, comedor social y cita con una trabajadora social: los "
            "servicios sociales de Villaclara del Río, paso a paso."
        ),
        body=(
            "<p>Los servicios sociales acompañan a quien pasa por un momento difícil. La "
            "primera cita se da en menos de una semana.</p>"
            "<h2>Cómo pedir cita</h2><p>Llama al 010 o acude al centro de servicios sociales "
            "de tu distrito. Una trabajadora social estudiará tu caso contigo.</p>"
            "<h2>Qué servicios hay</h2><p>Hay ayudas para el alquiler, comedor social, ayuda "
            "a domicilio y teleasistencia. La teleasistencia es gratuita para mayores de 80 "
            "años.</p>"
            "<p>Si tienes una urgencia social fuera de horario, llama al 112.</p>"
        ),
    ),
    DemoPillar(
        topic="urbanismo",
        slug="guia-urbanismo",
        title="Guía de urbanismo: obras, licencias y barrios",
        guide="guía de urbanismo",
        meta=(
            "Licencias de obra, el Plan General y las obras en la ciudad: lo que necesitas "
            "saber sobre urbanismo en Villaclara del Río."
        ),
        body=(
            "<p>El urbanismo decide cómo crecen los barrios. También te afecta cuando "
            "reformas tu casa o abres un negocio.</p>"
            "<h2>Obras en casa</h2><p>Para obras interiores sin cambios de estructura basta "
            "con una declaración responsable. Se presenta en la sede electrónica y puedes "
            "empezar al día siguiente.</p>"
            "<h2>El futuro de la ciudad</h2><p>El Plan General de Ordenación Urbana se está "
            "revisando con la participación de los vecinos. Puedes consultarlo en la sede "
            "electrónica y en el servicio de Urbanismo.</p>"
        ),
    ),
    DemoPillar(
        topic="deportes",
        slug="guia-deportes",
        title="Guía de deportes: piscinas, pistas y escuelas",
        guide="guía de deportes",
        meta=(
            "Piscinas municipales, reserva de pistas, escuelas deportivas y carreras "
            "populares: hacer deporte en Villaclara del Río."
        ),
        body=(
            "<p>Villaclara del Río tiene dos polideportivos, tres piscinas y pistas en todos "
            "los barrios.</p>"
            "<h2>Instalaciones</h2><p>Las pistas se reservan con la app o la web hasta siete "
            "días antes. El abono de temporada de las piscinas cuesta 45 euros, con "
            "descuentos para familias numerosas.</p>"
            "<h2>Escuelas y eventos</h2><p>Las escuelas deportivas municipales ofrecen doce "
            "deportes para niños y niñas de 4 a 16 años. En otoño se celebra la carrera "
            "popular por la Ribera.</p>"
        ),
    ),
    DemoPillar(
        topic="educacion",
        slug="guia-educacion",
        title="Guía de educación: escuelas infantiles y ayudas",
        guide="guía de educación",
        meta=(
            "Escuela infantil municipal, ayudas para libros, camino escolar seguro y "
            "actividades: la educación en Villaclara del Río."
        ),
        body=(
            "<p>El Ayuntamiento colabora con los colegios para que estudiar sea más fácil y "
            "seguro.</p>"
            "<h2>Escuela infantil</h2><p>La escuela infantil municipal acoge a niños y niñas "
            "de 0 a 3 años. La plaza se pide en mayo, en la sede electrónica o en la Oficina "
            "de Atención Ciudadana.</p>"
            "<h2>Ayudas y actividades</h2><p>Las familias con ingresos bajos reciben ayudas "
            "para libros de texto. El camino escolar seguro permite ir a pie al colegio con "
            "monitores en los cruces.</p>"
        ),
    ),
]

# Left without a link to their pillar, so the checklist's cluster warning shows in the demo.
WITHOUT_PILLAR_LINK = frozenset({"feria-empleo-comercio-local", "comedor-social-nuevo-local"})


def _pillar_sentence(topics: tuple[str, ...]) -> str:
    """A closing paragraph linking back to the pillar of each topic ("Más información en la
    guía de …")."""
    pillars = {pillar.topic: pillar for pillar in PILLARS}
    links = []
    for topic in topics:
        pillar = pillars[topic]
        with translation.override("es"):
            href = reverse("content:page-detail", kwargs={"path": pillar.slug})
        links.append(f'<a href="{href}">{pillar.guide}</a>')
    return f"<p>Más información en la {' y en la '.join(links)}.</p>"


# (topic slug, question, answer)
FAQS: list[tuple[str, str, str]] = [
    (
        "movilidad",
        "¿Cómo consigo la tarjeta de transporte urbano bonificada?",
        "<p>Solicítala en la Oficina de Atención Ciudadana con tu DNI y una foto. Es gratuita "
        "para mayores de 65 años y cuesta 10 euros al mes para menores de 26.</p>",
    ),
    (
        "movilidad",
        "¿Puedo entrar en coche en la zona de bajas emisiones?",
        "<p>Sí, si tu vehículo tiene etiqueta ambiental, estás empadronado en el Centro o "
        'tienes una autorización. Pídela en la <a href="/es/paginas/sede-electronica/">sede '
        "electrónica</a>.</p>",
    ),
    (
        "medio-ambiente",
        "¿Qué hago con los muebles y electrodomésticos viejos?",
        "<p>Llama al 010 para pedir la recogida gratuita a domicilio o llévalos al punto limpio "
        "de El Prado, abierto de martes a domingo.</p>",
    ),
    (
        "medio-ambiente",
        "¿Dónde me dan el cubo para el contenedor marrón?",
        "<p>En cualquier centro cívico, mostrando un recibo o el DNI con domicilio en "
        "Villaclara. Las bolsas compostables también son gratuitas.</p>",
    ),
    (
        "cultura",
        "¿Cómo me hago el carné de la biblioteca?",
        "<p>Acude a la Biblioteca Municipal con tu DNI o NIE. El carné es gratuito y sirve en "
        "todas las bibliotecas de la red municipal.</p>",
    ),
    (
        "cultura",
        "¿Dónde compro entradas para el Teatro Principal?",
        "<p>En la taquilla del teatro, de miércoles a domingo de 18:00 a 21:00, y en la web "
        "municipal. Menores de 30 años tienen un 50 % de descuento.</p>",
    ),
    (
        "empleo",
        "¿Qué servicios ofrece la Agencia de Desarrollo Local?",
        "<p>Orientación laboral, revisión de currículum, cursos de formación y asesoría para "
        "crear una empresa, todo gratuito y con cita previa.</p>",
    ),
    (
        "empleo",
        "¿Cómo me entero de las ofertas de empleo público del Ayuntamiento?",
        "<p>Se publican en el tablón de anuncios de la sede electrónica. Suscríbete al tema "
        "Empleo para recibirlas por correo.</p>",
    ),
    (
        "servicios-sociales",
        "¿Cómo pido cita con una trabajadora social?",
        "<p>Llama al 010 o acude al centro de servicios sociales de tu distrito. La primera "
        "cita se da en menos de una semana.</p>",
    ),
    (
        "servicios-sociales",
        "¿Quién puede solicitar la teleasistencia?",
        "<p>Personas mayores o con discapacidad que vivan solas o pasen muchas horas solas. Es "
        "gratuita para mayores de 80 años.</p>",
    ),
    (
        "urbanismo",
        "¿Necesito licencia para reformar mi cocina?",
        "<p>Para obras interiores sin cambios de estructura basta con una declaración "
        "responsable, que se presenta en la sede electrónica.</p>",
    ),
    (
        "urbanismo",
        "¿Dónde consulto el Plan General de Ordenación Urbana?",
        "<p>En la sede electrónica y en el servicio de Urbanismo, en la segunda planta del "
        "Ayuntamiento, con cita previa.</p>",
    ),
    (
        "deportes",
        "¿Cuánto cuesta el abono de las piscinas municipales?",
        "<p>El abono de temporada cuesta 45 euros. Hay descuentos para familias numerosas, "
        "pensionistas y personas con discapacidad.</p>",
    ),
    (
        "deportes",
        "¿Cómo reservo una pista deportiva?",
        "<p>Con la app o la web de reservas municipales, hasta siete días antes. Se paga con "
        "tarjeta al reservar.</p>",
    ),
    (
        "educacion",
        "¿Cuándo se solicita plaza en la escuela infantil municipal?",
        "<p>Del 2 al 20 de mayo, en la sede electrónica o en la Oficina de Atención "
        "Ciudadana. Las listas se publican en junio.</p>",
    ),
    (
        "educacion",
        "¿Hay ayudas para libros de texto?",
        "<p>Sí. El Ayuntamiento complementa las ayudas autonómicas para familias con ingresos "
        "bajos; el plazo se abre en julio.</p>",
    ),
]

# (slug, title, description, embed address, transcript, days ago, topic slugs)
VIDEOS: list[tuple[str, str, str, str, str, int, tuple[str, ...]]] = [
    (
        "como-separar-residuos-en-casa",
        "Cómo separar los residuos en casa",
        "Una guía de tres minutos para separar bien los residuos con el nuevo contenedor marrón.",
        "https://www.youtube-nocookie.com/embed/vcRioRes01",
        "Hola, soy Marta Vidal, técnica de Medio Ambiente del Ayuntamiento de Villaclara del "
        "Río. Hoy os explico cómo separar los residuos en casa. En el contenedor amarillo van "
        "los envases: latas, bricks y plásticos. En el azul, el papel y el cartón, plegado "
        "para que ocupe menos. En el verde, el vidrio, sin tapones. Y desde este año, en "
        "todos los barrios, el contenedor marrón recoge los restos orgánicos: restos de "
        "comida, posos de café y servilletas usadas. El cubo de cocina y las bolsas "
        "compostables os los damos gratis en los centros cívicos. Lo que no sepáis dónde va, "
        "llevadlo al punto limpio de El Prado. Gracias por separar: entre todos reducimos a "
        "la mitad lo que acaba en el vertedero.",
        20,
        ("medio-ambiente",),
    ),
    (
        "tramites-en-la-sede-electronica",
        "Tus trámites en la sede electrónica, paso a paso",
        "Cómo entrar en la sede electrónica y presentar una solicitud sin ir al Ayuntamiento.",
        "https://www.youtube-nocookie.com/embed/vcRioSede02",
        "Hola, soy Javier Ortega, de la Oficina de Atención Ciudadana. En este vídeo vamos a "
        "presentar una solicitud en la sede electrónica. Primero entramos en la web del "
        "Ayuntamiento y pulsamos en Sede electrónica. Elegimos el trámite, por ejemplo el "
        "certificado de empadronamiento. Nos identificamos con Cl@ve, con certificado digital "
        "o con el DNI electrónico. Revisamos los datos, adjuntamos los documentos si hace "
        "falta y firmamos. Al terminar recibimos un justificante con el número de registro; "
        "guardadlo, porque sirve para consultar cómo va la solicitud. Si tenéis dudas, "
        "llamad al 010 o pedid cita y os ayudamos en persona.",
        55,
        ("urbanismo", "servicios-sociales"),
    ),
]


def _demo_exists() -> bool:
    slugs = [article.slug for article in ARTICLES]
    return Article.objects.filter(**{"slug_es__in": slugs}).exists()


def _topics() -> dict[str, Topic]:
    topics: dict[str, Topic] = {}
    for order, (slug, name_es, name_en) in enumerate(TOPICS):
        topic, _created = Topic.objects.get_or_create(
            slug=slug,
            defaults={"name": name_es, "name_es": name_es, "name_en": name_en, "order": order},
        )
        topics[slug] = topic
    return topics


def _save_live(obj: P, fields: dict[str, Any], when: dt.datetime) -> P:
    """Fill in `obj` (translated columns included) and save it published since `when`."""
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.status = Status.PUBLISHED
    obj.publish_at = when
    obj.published_at = when
    obj.save()
    return obj


@transaction.atomic
def content_demo_seed() -> int:
    """Create the demo articles, pages (a pillar per topic), FAQs and videos, all live; returns
    how many were created.

    Idempotent: does nothing (returns 0) when the demo articles already exist. Deterministic on
    a given day (publication dates are relative to today's midnight).
    """
    if _demo_exists():
        return 0
    topics = _topics()
    midnight = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time()))
    created = 0

    def ago(days: int, hour: int = 9) -> dt.datetime:
        return midnight - dt.timedelta(days=days) + dt.timedelta(hours=hour)

    for index, item in enumerate(ARTICLES):
        back_link = "" if item.slug in WITHOUT_PILLAR_LINK else _pillar_sentence(item.topics)
        fields: dict[str, Any] = {
            "title_es": item.title,
            "slug_es": item.slug,
            "summary_es": item.summary,
            "body_es": item.body() + back_link,
            "meta_description_es": item.summary,
            "focus_keyword_es": item.keyword,
            "byline": BYLINES[index % len(BYLINES)],
            "featured": index % 7 == 1,  # three featured articles on the home page
        }
        for language, text in item.translations.items():
            fields.update(
                {
                    f"title_{language}": text.title,
                    f"slug_{language}": text.slug,
                    f"summary_{language}": text.summary,
                    f"body_{language}": text.body,
                    f"meta_description_{language}": text.summary,
                }
            )
        # Yesterday at the latest, so every article is already live whatever the hour.
        article = _save_live(Article(), fields, ago(max(item.days_ago, 1), 9 + index % 4))
        article.topics.set([topics[slug] for slug in item.topics])
        created += 1

    pages: dict[str, Page] = {}
    for order, (slug, title, body, parent, meta) in enumerate(PAGES):
        pages[slug] = _save_live(
            Page(parent=pages[parent] if parent else None, order=order),
            {"title_es": title, "slug_es": slug, "body_es": body, "meta_description_es": meta},
            ago(180),
        )
        created += 1

    for order, pillar in enumerate(PILLARS, start=len(PAGES)):
        _save_live(
            Page(order=order, pillar_topic=topics[pillar.topic]),
            {
                "title_es": pillar.title,
                "slug_es": pillar.slug,
                "body_es": pillar.body,
                "meta_description_es": pillar.meta,
            },
            ago(175),
        )
        created += 1

    for order, (topic, question, answer) in enumerate(FAQS):
        _save_live(
            FAQ(topic=topics[topic], order=order),
            {"question_es": question, "answer_es": answer},
            ago(170),
        )
        created += 1

    for slug, title, description, embed_url, transcript, days_ago, video_topics in VIDEOS:
        video = _save_live(
            Video(provider=Video.Provider.YOUTUBE_NOCOOKIE, embed_url=embed_url),
            {
                "title_es": title,
                "slug_es": slug,
                "description_es": description,
                "transcript_es": transcript,
            },
            ago(days_ago, 12),
        )
        video.topics.set([topics[topic] for topic in video_topics])
        created += 1
    # Pages cached before the seed would hide the new content until they expire.
    transaction.on_commit(public_pages_invalidate)
    return created
