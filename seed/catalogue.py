"""The demo region's vocabulary: förvaltningar, systems as Swedish healthcare knows them, suppliers,
and the people who own them. Names are illustrative; any likeness to a real inventory is the point."""

ORG_UNITS = [
    "Hälso- och sjukvårdsförvaltningen",
    "Primärvårdsförvaltningen",
    "Psykiatriförvaltningen",
    "Tandvårdsförvaltningen",
    "Medicinsk diagnostik",
    "Regionservice",
    "Regionkansliet",
    "Kollektivtrafikförvaltningen",
    "Kultur- och bildningsförvaltningen",
    "Habilitering och hälsa",
    "Hjälpmedelscentralen",
    "Ambulanssjukvården",
]

# (name, supplier, description, org unit index, kind); kind steers criticality, personal data and stage
CORE_SYSTEMS = [
    ("Cosmic", "Cambio", "Vårdinformationssystem: journal, ordination, remisser och vårdadministration.", 0, "journal"),
    ("Cosmic Link", "Cambio", "Integrationsplattform för Cosmic mot nationella tjänster.", 5, "integration"),
    ("Sectra PACS", "Sectra", "Bildarkiv och granskning av röntgen- och undersökningsbilder.", 4, "imaging"),
    ("Sectra UniView", "Sectra", "Webbaserad bildvisning för remittenter.", 4, "imaging"),
    ("RIS Röntgen", "Sectra", "Radiologiskt informationssystem: bokning och svar.", 4, "imaging"),
    ("Nationell patientöversikt (NPÖ)", "Inera", "Tar del av journaluppgifter från andra vårdgivare.", 0, "national"),
    ("Pascal", "Inera", "Ordination av dosdispenserade läkemedel.", 0, "pharmacy"),
    ("1177 Vårdguidens e-tjänster", "Inera", "Invånartjänster: bokning, ärenden och journal på nätet.", 1, "national"),
    ("Webcert", "Inera", "Intygsutfärdande för hälso- och sjukvården.", 0, "national"),
    ("Säker digital kommunikation (SDK)", "Inera", "Säker meddelandeöverföring mellan organisationer.", 5, "integration"),
    ("Flexlab", "Tieto Evry", "Laboratoriedatasystem för klinisk kemi.", 4, "lab"),
    ("Analytix", "Sunquest", "Laboratoriedatasystem för mikrobiologi.", 4, "lab"),
    ("Sympathy", "Tieto Evry", "Laboratoriedatasystem för patologi och cytologi.", 4, "lab"),
    ("ProSang", "Systematic", "Blodcentralssystem för givare, tappning och transfusion.", 4, "lab"),
    ("Orbit", "Evry", "Operationsplanering och operationsjournal.", 0, "scheduling"),
    ("Obstetrix", "Cerner", "Journal för mödrahälsovård och förlossning.", 0, "journal"),
    ("Melior", "Cerner", "Vårdinformationssystem i slutenvård (under utfasning).", 0, "journal"),
    ("Centricity Critical Care", "GE HealthCare", "Intensivvårdsjournal med övervakningsdata.", 0, "device"),
    ("Infusionspumpar Alaris", "BD", "Läkemedelsbibliotek och loggar för infusionspumpar.", 0, "device"),
    ("Patientövervakning IntelliVue", "Philips", "Central övervakning av vitalparametrar.", 0, "device"),
    ("Heroma", "CGI", "Personal- och lönesystem med schemaläggning.", 6, "hr"),
    ("Raindance", "CGI", "Ekonomisystem: redovisning, leverantörsfakturor och budget.", 6, "finance"),
    ("Proceedo", "Visma", "E-handel och beställningar.", 6, "finance"),
    ("Public 360", "Tieto Evry", "Diarie- och ärendehantering.", 6, "admin"),
    ("Platina", "Formpipe", "Dokument- och ärendehantering för nämnder.", 6, "admin"),
    ("Qlik Sense", "Qlik", "Analys och uppföljning av vårdproduktion.", 6, "analytics"),
    ("ServiceNow", "ServiceNow", "IT-servicehantering och CMDB.", 5, "it"),
    ("Active Directory", "Microsoft", "Katalogtjänst och behörigheter.", 5, "it"),
    ("Microsoft 365", "Microsoft", "E-post, samarbete och dokument.", 5, "it"),
    ("Citrix", "Citrix", "Virtuella skrivbord och applikationspublicering.", 5, "it"),
    ("T4", "Carestream Dental", "Journal- och bokningssystem för tandvården.", 3, "journal"),
    ("Ambulansjournal Amphi", "Ortivus", "Prehospital journal och beslutsstöd.", 11, "journal"),
    ("SOS-larm integration", "SOS Alarm", "Överföring av larm till ambulansdirigering.", 11, "integration"),
    ("Sesam", "Evry", "Hjälpmedelsadministration och förskrivning.", 10, "admin"),
    ("Procapita", "CGI", "Verksamhetssystem för habilitering.", 9, "journal"),
    ("Psykiatrijournal Cosmic-modul", "Cambio", "Tvångsvårdsdokumentation och vårdplaner.", 2, "journal"),
    ("Rikshandboken i barnhälsovård", "Inera", "Kunskapsstöd för barnhälsovården.", 1, "national"),
    ("Journalen", "Inera", "Invånarens åtkomst till sin journal.", 1, "national"),
    ("Intelligence", "Inera", "Tolkbeställning och hantering.", 6, "admin"),
    ("Skolwebben", "Region", "Webbplats för folkhögskolor.", 8, "web"),
    ("Resenärsportalen", "Hogia", "Kollektivtrafikens biljett- och reseplanering.", 7, "web"),
    ("Biljettsystem", "Hogia", "Betal- och biljettsystem för kollektivtrafiken.", 7, "finance"),
    ("Regionens webbplats", "Sitevision", "Externa webbplatser och intranät.", 6, "web"),
]

# Families expanded per hospital or per unit to reach a region's ~670 systems.
HOSPITALS = ["Centralsjukhuset", "Länssjukhuset", "Lasarettet i Norrby", "Lasarettet i Söderby"]
DEVICE_FAMILIES = [
    ("Ultraljud Voluson", "GE HealthCare", "Ultraljudsutrustning med bildlagring."),
    ("Dialysmaskiner 5008", "Fresenius", "Dialysmaskiner med behandlingslogg."),
    ("Anestesiapparater Perseus", "Dräger", "Anestesiutrustning med parameterexport."),
    ("Ventilatorer Servo-U", "Getinge", "Respiratorer med nätverksanslutning."),
    ("Datortomograf SOMATOM", "Siemens Healthineers", "DT med integration mot PACS."),
    ("Magnetkamera MAGNETOM", "Siemens Healthineers", "MR med integration mot RIS/PACS."),
    ("EKG-system MUSE", "GE HealthCare", "Lagring och tolkning av EKG."),
    ("Sterilcentral T-DOC", "Getinge", "Spårbarhet för sterilgods."),
    ("Blodgasanalysator ABL", "Radiometer", "Patientnära analys med LIS-koppling."),
    ("Läkemedelsautomater Omnicell", "Omnicell", "Automatiserad läkemedelshantering på avdelning."),
]
UNIT_FAMILIES = [
    ("Tidbokning", "Evry", "Bokning av besök och resurser."),
    ("Väntelistehantering", "Region", "Uppföljning av vårdgaranti och väntetider."),
    ("Kvalitetsuppföljning", "Region", "Lokal uppföljning av indikatorer."),
    ("Avvikelsehantering", "Synergi", "Rapportering av avvikelser och händelseanalyser."),
    ("Schemaläggning", "Time Care", "Bemanning och schema."),
    ("Dokumenthantering", "Centuri", "Styrande dokument och rutiner."),
    ("Internwebb", "Sitevision", "Intranät för verksamheten."),
    ("Videomöten", "Visiba", "Digitala vårdmöten."),
]
QUALITY_REGISTERS = [
    "Riksstroke", "Svenska Diabetesregistret", "Swedeheart", "Svenska Höftprotesregistret",
    "Svenska Knäprotesregistret", "Nationella kataraktregistret", "Svenska Intensivvårdsregistret",
    "Svenska Palliativregistret", "BPSD-registret", "Senior alert", "Svenska Barnhjärtregistret",
    "Nationellt register för bröstcancer", "Svenska Njurregistret", "Svenska Psoriasisregistret",
    "Svenska Demensregistret", "Nationellt kvalitetsregister för ECT", "Svenska Astma- och KOL-registret",
    "RiksSvikt", "Svenska Frakturregistret", "Perinatalregistret", "Svenska Rygg-registret",
    "Nationella Prostatacancerregistret", "Svenska Reumatologiregistret", "Svenska Hörselregistret",
    "Nationellt register för smärtrehabilitering", "Svenska Tandvårdsregistret", "Svenska Traumaregistret",
    "Svenskt Perioperativt Register", "Svenska Neonatalregistret", "RiksÄt",
]
LOCAL_APPS = [
    ("Provtagningsanvisningar", "Medicinsk diagnostik"), ("Remisshantering lab", "Medicinsk diagnostik"),
    ("Mikrobiologiskt svarssystem", "Medicinsk diagnostik"), ("Klinisk farmakologi databas", "Medicinsk diagnostik"),
    ("Läkemedelsförråd", "Hälso- och sjukvårdsförvaltningen"), ("Smittskyddsanmälan SmiNet", "Hälso- och sjukvårdsförvaltningen"),
    ("Vårdhygienregistrering", "Hälso- och sjukvårdsförvaltningen"), ("Screening mammografi", "Hälso- och sjukvårdsförvaltningen"),
    ("Vaccinationsregister", "Primärvårdsförvaltningen"), ("Barnhälsovårdsjournal", "Primärvårdsförvaltningen"),
    ("Mödrahälsovårdsjournal", "Primärvårdsförvaltningen"), ("Rehabiliteringskoordinering", "Primärvårdsförvaltningen"),
    ("Tvångsvårdsregister", "Psykiatriförvaltningen"), ("Rättspsykiatrisk dokumentation", "Psykiatriförvaltningen"),
    ("Ortodontiplanering", "Tandvårdsförvaltningen"), ("Folktandvårdens kallelser", "Tandvårdsförvaltningen"),
    ("Fakturering patientavgifter", "Regionkansliet"), ("Lönekartläggning", "Regionkansliet"),
    ("Nämndadministration", "Regionkansliet"), ("Upphandlingsstöd", "Regionkansliet"),
    ("Fastighetsförvaltning", "Regionservice"), ("Lokalbokning", "Regionservice"), ("Fordonsadministration", "Regionservice"),
    ("Nätverksövervakning", "Regionservice"), ("Backup och återläsning", "Regionservice"), ("Brandvägg och VPN", "Regionservice"),
    ("Skrivarhantering", "Regionservice"), ("Mobilhantering MDM", "Regionservice"), ("Loggserver SIEM", "Regionservice"),
    ("Färdtjänstbeställning", "Kollektivtrafikförvaltningen"), ("Trafikinformation", "Kollektivtrafikförvaltningen"),
    ("Biblioteksdatasystem", "Kultur- och bildningsförvaltningen"), ("Elevregister folkhögskola", "Kultur- och bildningsförvaltningen"),
    ("Hjälpmedelslager", "Hjälpmedelscentralen"), ("Tekniska hjälpmedel service", "Hjälpmedelscentralen"),
    ("Habiliteringsjournal", "Habilitering och hälsa"), ("Tolkcentral", "Habilitering och hälsa"),
    ("Ambulansdirigering", "Ambulanssjukvården"), ("Helikopterjournal", "Ambulanssjukvården"),
]
LOCAL_SUPPLIERS = ["Tieto Evry", "CGI", "Atea", "Sogeti", "Knowit", "Region (egenutvecklat)", "Visma", "Netcompany",
                   "Cambio", "Evry", "Softronic", "Formpipe"]

FIRST_NAMES = ["Anna", "Erik", "Maria", "Lars", "Karin", "Anders", "Eva", "Johan", "Sara", "Per", "Lena", "Mikael",
               "Ingrid", "Fredrik", "Åsa", "Björn", "Sofia", "Magnus", "Helena", "Jonas", "Emma", "Oskar", "Linnea",
               "Gustav", "Elin", "Nils", "Märta", "Örjan", "Kristina", "Henrik"]
LAST_NAMES = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
              "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Lindberg", "Lindqvist", "Holm", "Bergström",
              "Sjöberg", "Åberg", "Öberg", "Wikström", "Ström", "Lundgren", "Håkansson", "Ekström"]

HOSPITALS.append("Sjukhuset i Västerby")
DEVICE_FAMILIES += [
    ("Defibrillatorer LIFEPAK", "Stryker", "Defibrillatorer med överföring av händelsedata."),
    ("Telemetri ApexPro", "GE HealthCare", "Trådlös telemetriövervakning."),
    ("Endoskopisystem EVIS", "Olympus", "Endoskopi med bildlagring."),
    ("Sängvågar och lyftar", "Arjo", "Uppkopplade patientlyftar och vågar."),
    ("Sprutpumpar Perfusor", "B. Braun", "Sprutpumpar med läkemedelsbibliotek."),
    ("Strålbehandling ARIA", "Varian", "Dosplanering och behandlingsjournal för strålbehandling."),
]
UNIT_FAMILIES += [
    ("Kompetensportal", "Region", "Utbildningar och kompetensbevis."),
    ("Besöksregistrering", "Region", "In- och utpassering och besöksloggar."),
    ("Arbetsmiljörapportering", "Synergi", "Tillbud och arbetsskador."),
    ("Inköpsbeställningar", "Visma", "Beställningar inom förvaltningen."),
    ("Verksamhetsuppföljning", "Qlik", "Rapporter och nyckeltal för förvaltningen."),
    ("Kontaktcenter", "Telia", "Telefoni och ärendehantering för invånarkontakter."),
]
DEPARTMENTS = [
    "Kardiologi", "Onkologi", "Ortopedi", "Neurologi", "Kirurgi", "Barn- och ungdomsmedicin",
    "Kvinnosjukvård", "Akutmottagning", "Infektion", "Hudkliniken", "Ögonkliniken", "Öron-näsa-hals",
    "Urologi", "Geriatrik", "Rehabiliteringsmedicin", "Njurmedicin", "Hematologi", "Reumatologi",
    "Endokrinologi", "Anestesi och intensivvård",
]
DEPARTMENT_APPS = [
    ("Specialistjournal", "Cambio", "Specialanpassade journalmallar och uppföljning."),
    ("Beslutsstöd", "Region (egenutvecklat)", "Kliniskt beslutsstöd och riktlinjer."),
    ("Kvalitetsregistrering", "Region (egenutvecklat)", "Lokal inrapportering till kvalitetsregister."),
    ("Bilddokumentation", "Sectra", "Kliniska fotografier och bildunderlag."),
    ("Kallelser och påminnelser", "Evry", "Kallelser, SMS-påminnelser och avbokningar."),
    ("Mätvärdesinsamling", "Philips", "Hemmonitorering och mätvärden från patienter."),
    ("Patientutbildning", "Visiba", "Digitala utbildningar för patienter."),
    ("Forskningsdatabas", "REDCap", "Forskningsdata med etikprövat uttag."),
    ("Remisshantering", "Cambio", "Inkommande och utgående remisser."),
    ("Egenmonitorering", "Region (egenutvecklat)", "Patienternas egenrapporterade symtom."),
]
INTEGRATIONS = [("Cosmic", "Flexlab"), ("Cosmic", "Sectra PACS"), ("Cosmic", "Heroma"), ("Cosmic", "Pascal"),
                ("Cosmic", "Orbit"), ("Cosmic", "Obstetrix"), ("Cosmic", "ProSang"), ("Cosmic", "Analytix"),
                ("Flexlab", "NPÖ"), ("Heroma", "Raindance"), ("Raindance", "Proceedo"), ("ServiceNow", "Active Directory"),
                ("Public 360", "Platina"), ("Orbit", "T-DOC"), ("Sectra PACS", "RIS Röntgen"), ("Cosmic", "Webcert"),
                ("Cosmic", "1177"), ("Heroma", "Time Care"), ("Qlik Sense", "Cosmic"), ("Amphi", "Cosmic")]
E_SERVICES = ["Förnya recept", "Av- och omboka tid", "Beställa kopia av journal", "Anmäla flytt av journal",
              "Egenremiss till mammografi", "Ansökan om färdtjänst", "Ansökan om sjukresa", "Frikort och högkostnadsskydd",
              "Ansöka om hjälpmedel", "Anmälan om missnöje", "Patientnämndens ärenden", "Tolkbokning för invånare",
              "Vaccinationsbokning", "Provsvar på nätet", "Boka tandvård", "Hälsodeklaration inför operation",
              "Ersättning för utlägg", "Donationsvilja", "Synpunkter på kollektivtrafiken", "Ansökan om kulturstöd"]
HEALTH_CENTRES = ["Centrum", "Norrby", "Söderby", "Västerby", "Österby", "Åsen", "Bäckadal", "Skogslund", "Ängby",
                  "Hamnen", "Brunnsvik", "Lillby", "Sjöstaden", "Ekdalen"]
HEALTH_CENTRE_APPS = [("Hembesöksplanering", "Time Care"), ("Läkemedelsgenomgångar", "Cambio"),
                      ("Telefonrådgivning", "Telia")]
PSYCHIATRY_CLINICS = ["Vuxenpsykiatri Nord", "Vuxenpsykiatri Syd", "Barn- och ungdomspsykiatri",
                      "Rättspsykiatri", "Beroendecentrum", "Ätstörningsenheten"]
PSYCHIATRY_APPS = [("Skattningsskalor", "Region (egenutvecklat)"), ("Internetbehandling", "Inera"),
                   ("Vårdplanering", "Cambio")]
DENTAL_CLINICS = ["Folktandvården Centrum", "Folktandvården Norrby", "Specialisttandvården", "Käkkirurgen",
                  "Barntandvården"]
DENTAL_APPS = [("Röntgen intraoral", "Planmeca"), ("Behandlingsplanering", "Carestream Dental")]
