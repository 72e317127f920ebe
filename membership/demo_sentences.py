"""The words the demo articles are built from: invented places, names and sentences.

Written for Masthead; every name here is fictional. ``demo_content`` combines them.
"""

PLACES = (
    "Eastmoor",
    "Kingsfield",
    "Millbrook",
    "Saltmarsh",
    "Ashby Cross",
    "Redwater",
    "Fenwick",
    "Larkhill Green",
    "Thornbury Quay",
    "Westhaven",
    "Oakridge",
    "Brackenford",
)
FIRST_NAMES = (
    "Amara",
    "Ben",
    "Clara",
    "Dev",
    "Elena",
    "Finn",
    "Grace",
    "Hugo",
    "Isla",
    "Jonah",
    "Kemi",
    "Leo",
    "Maya",
    "Niall",
    "Orla",
    "Priya",
    "Rory",
    "Sana",
    "Tom",
    "Zoe",
)
SURNAMES = (
    "Abbott",
    "Bhatt",
    "Carver",
    "Doyle",
    "Ellery",
    "Fairbairn",
    "Gale",
    "Hollis",
    "Iqbal",
    "Jessop",
    "Kerr",
    "Lindqvist",
    "Mensah",
    "Nakamura",
    "Okafor",
    "Pryce",
)

# Per section: headline templates, standfirst templates, an organisation, and paragraph
# sentences. Slots: {place}, {person}, {org}, {number}, {thing}.
SECTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "Politics": {
        "things": (
            "housing bill",
            "bus franchise",
            "schools funding formula",
            "port expansion",
            "flood defence budget",
            "social care plan",
            "rail timetable review",
        ),
        "headlines": (
            "Ministers face backbench revolt over the {thing} for {place}",
            "{place} council splits over the {thing}",
            "Opposition demands answers on the {thing} after {place} vote",
        ),
        "standfirsts": (
            "Critics say the {thing} leaves {place} short; ministers call it fair.",
            "A vote on the {thing} has turned into a test of the government's grip.",
        ),
        "orgs": ("the Treasury", "the local government committee", "the county council"),
        "sentences": (
            "Ministers insist the {thing} is affordable and overdue.",
            "Backbenchers representing {place} say their inboxes are full of worried residents.",
            "The committee is expected to publish its own figures within {number} days.",
            "A government spokesperson said the details were still being finalised.",
            "Opposition members argue the consultation was rushed and too narrow.",
            "Council officers warned that {number} posts could go if the money does not arrive.",
        ),
    },
    "World": {
        "things": (
            "grain corridor",
            "border crossing",
            "election recount",
            "aid convoy",
            "fishing treaty",
            "power-sharing deal",
        ),
        "headlines": (
            "Talks on the {thing} resume as pressure mounts abroad",
            "Envoys race to rescue the {thing} before the winter",
            "Observers question the {thing} as tensions rise",
        ),
        "standfirsts": (
            "Diplomats describe the mood as tense but workable.",
            "The {thing} has become the focus of a wider regional dispute.",
        ),
        "orgs": ("the regional security council", "a monitoring mission", "the foreign ministry"),
        "sentences": (
            "Diplomats said the talks would continue through the weekend.",
            "Aid agencies say {number} families are waiting for supplies.",
            "Neither side has published the draft text.",
            "Observers from {org} reported a calmer night after days of shelling.",
            "Officials in the capital declined to comment on the timetable.",
            "Analysts caution that early reports from the region are hard to verify.",
        ),
    },
    "Business": {
        "things": (
            "warehouse chain",
            "regional bank",
            "bakery group",
            "shipping line",
            "solar installer",
            "bus maker",
            "grocery app",
        ),
        "headlines": (
            "{place} {thing} lifts profits despite higher costs",
            "Investors cool on the {thing} after a profit warning",
            "The {thing} from {place} eyes a listing next year",
        ),
        "standfirsts": (
            "Its chief executive says demand held up better than feared.",
            "Shares moved sharply as the {thing} revised its outlook.",
        ),
        "orgs": ("the company", "the chamber of commerce", "the sector's trade body"),
        "sentences": (
            "Revenue rose by {number} per cent on the year, the company said.",
            "Analysts had expected a weaker second half.",
            "The board plans to hire {number} people in {place} by the spring.",
            "Energy and wage bills remain the biggest pressure on margins.",
            "A spokesperson for {org} said confidence was fragile but improving.",
            "The results will be discussed with investors on a call next week.",
        ),
    },
    "Science": {
        "things": (
            "comet survey",
            "seagrass project",
            "vaccine trial",
            "glacier study",
            "soil microbe census",
            "deep-sea camera",
        ),
        "headlines": (
            "A {thing} off {place} surprises researchers",
            "What the {thing} tells us about a warming planet",
            "Early results from the {thing} raise new questions",
        ),
        "standfirsts": (
            "The findings are preliminary but point somewhere unexpected.",
            "Scientists say the {thing} could change how the field works.",
        ),
        "orgs": (
            "the university's field station",
            "the national observatory",
            "the research council",
        ),
        "sentences": (
            "The team collected {number} samples over two seasons.",
            "Researchers stress that the results still need to be replicated.",
            "Funding from {org} covers another three years of work.",
            "The data will be made public once the paper is peer reviewed.",
            "Similar patterns have been seen elsewhere, but never at this scale.",
            "Volunteers near {place} helped record the observations.",
        ),
    },
    "Technology": {
        "things": (
            "battery startup",
            "mapping app",
            "chip plant",
            "home robot",
            "translation tool",
            "satellite network",
        ),
        "headlines": (
            "The {thing} promising to change commuting in {place}",
            "Hands on with the new {thing}",
            "Why the {thing} is struggling to find customers",
        ),
        "standfirsts": (
            "The product is clever, but the business case is still unproven.",
            "Engineers behind the {thing} think they have solved the hard part.",
        ),
        "orgs": ("the startup", "an industry regulator", "the engineering team"),
        "sentences": (
            "The device went on sale in {number} shops this month.",
            "Early users praise the design but complain about the battery life.",
            "The company has raised money twice in the past year.",
            "A spokesperson for {org} said updates would arrive every quarter.",
            "Privacy campaigners want clearer rules on the data it collects.",
            "Competitors are expected to respond before the end of the year.",
        ),
    },
    "Culture": {
        "things": (
            "folk festival",
            "gallery reopening",
            "debut novel",
            "touring opera",
            "community theatre",
            "photography prize",
        ),
        "headlines": (
            "The {thing} that has {place} talking",
            "A {thing} worth the journey to {place}",
            "Inside the {thing}, five years in the making",
        ),
        "standfirsts": (
            "Ambitious, uneven and often moving.",
            "The {thing} makes a quiet case for staying local.",
        ),
        "orgs": ("the arts council", "the festival trust", "the town's museum"),
        "sentences": (
            "Tickets for the opening night sold out in {number} minutes.",
            "The programme leans on local performers and first-time writers.",
            "Grants from {org} paid for the new lighting rig.",
            "Some scenes drag, but the final act lands with real force.",
            "Audiences in {place} have waited a long time for something like it.",
            "The organisers hope to tour the production next year.",
        ),
    },
    "Opinion": {
        "things": (
            "four-day week",
            "high street",
            "school day",
            "commuter belt",
            "local newspaper",
            "green belt",
        ),
        "headlines": (
            "The {thing} deserves better than slogans",
            "We are asking the wrong questions about the {thing}",
            "What {place} can teach the country about the {thing}",
        ),
        "standfirsts": (
            "An argument for patience, evidence and a little humility.",
            "The debate about the {thing} has become too tidy.",
        ),
        "orgs": ("the government", "the think tanks", "the parties"),
        "sentences": (
            "It is tempting to treat every problem as a crisis.",
            "The evidence from {place} is more mixed than either side admits.",
            "Ask the people who live with the {thing} and you hear a different story.",
            "Neither of the main parties has said what it would cost.",
            "Small, boring reforms would help more than grand announcements.",
            "The next {number} months will show whether anyone was listening.",
        ),
    },
    "Sport": {
        "things": (
            "cup run",
            "relegation fight",
            "derby",
            "title race",
            "coaching change",
            "stadium plan",
        ),
        "headlines": (
            "{place} keep their {thing} alive with late winner",
            "The {thing} that could define {place}'s season",
            "Fans react as the {thing} takes another twist",
        ),
        "standfirsts": (
            "A tense afternoon ended with relief in the away end.",
            "The manager says the squad is ready for the {thing}.",
        ),
        "orgs": ("the club", "the supporters' trust", "the league"),
        "sentences": (
            "A crowd of {number} watched a scrappy first half.",
            "The winner came from a corner deep into added time.",
            "The manager praised the squad's patience after the break.",
            "{org} confirmed two players would miss next week's match.",
            "Supporters in {place} have seen promising starts fade before.",
            "The next three fixtures are all against sides above them.",
        ),
    },
    "Travel": {
        "things": (
            "coastal path",
            "night train",
            "island ferry",
            "canal holiday",
            "mountain hut",
            "market town",
        ),
        "headlines": (
            "A slow weekend on the {thing} near {place}",
            "The {thing} is back, and it is better than ever",
            "How to do the {thing} without a car",
        ),
        "standfirsts": (
            "Pack layers, book ahead and leave the itinerary loose.",
            "A {thing} that rewards walkers more than drivers.",
        ),
        "orgs": ("the tourist board", "the ferry operator", "the national park"),
        "sentences": (
            "The route covers about {number} miles over three days.",
            "Book the first night early; rooms in {place} go quickly in summer.",
            "The café by the harbour serves the best breakfast on the route.",
            "{org} recommends checking the tide tables before setting off.",
            "Off season, you may have the views almost to yourself.",
            "Trains from the city take a little over two hours.",
        ),
    },
    "Food": {
        "things": (
            "sourdough bake",
            "allotment harvest",
            "spice market",
            "soup supper",
            "orchard cider",
            "winter stew",
        ),
        "headlines": (
            "A {thing} for cold evenings",
            "The {place} cooks reviving the {thing}",
            "Everything you need for the perfect {thing}",
        ),
        "standfirsts": (
            "Simple ingredients, a little patience and a big pot.",
            "The {thing} that tastes of the season.",
        ),
        "orgs": ("the cookery school", "the growers' cooperative", "the market traders"),
        "sentences": (
            "Start with onions cooked slowly for at least {number} minutes.",
            "Buy vegetables from the market in {place} if you can.",
            "A spoonful of something sharp at the end lifts the whole dish.",
            "{org} runs classes on weekday evenings.",
            "Leftovers keep well for two days and taste better on the second.",
            "Serve with good bread and plenty of butter.",
        ),
    },
}

# Sentences any section may use, so no paragraph repeats within an article.
GENERIC = (
    "Residents of {place} have mixed feelings about what happens next.",
    "{person} said the details would matter more than the headlines.",
    "A similar plan was tried a few years ago, with modest results.",
    "Not everyone is convinced.",
    "The timetable has already slipped once.",
    "Local groups have asked for a public meeting.",
    "Supporters argue that doing nothing would cost more in the long run.",
    "There is, as ever, the question of who pays.",
    "Those closest to the decision say the mood has changed in recent days.",
    "Figures shared with {org} suggest the cost could rise by {number} per cent.",
)

CLOSINGS = (
    "A further update is expected next week.",
    "Those involved say the coming weeks will be decisive.",
    "Nothing will be settled before the end of the month.",
    "For now, the people of {place} are waiting to see what comes next.",
)
