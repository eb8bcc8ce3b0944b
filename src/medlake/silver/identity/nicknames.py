"""Given-name nicknames: every name of a group maps to one canonical spelling.

Groups are written by hand (common US English and Spanish diminutives). A nickname shared by
two formal names (`pat`: Patricia and Patrick, `kathy`: Katherine and Kathleen) joins their
groups: the matcher then treats them as the same given name and lets birth date, sex and the
other fields tell the people apart. All names are lower case, accents removed.
"""

from __future__ import annotations

_GROUPS: tuple[tuple[str, ...], ...] = (
    ("robert", "bob", "bobby", "rob", "robbie"),
    ("william", "bill", "billy", "will", "willie", "liam"),
    ("richard", "rick", "ricky", "dick", "rich", "richie"),
    ("james", "jim", "jimmy", "jamie"),
    ("john", "jack", "johnny", "jon"),
    ("jonathan", "jon", "johnny"),
    ("michael", "mike", "mikey", "mick"),
    ("thomas", "tom", "tommy"),
    ("joseph", "joe", "joey"),
    ("charles", "chuck", "charlie", "chaz"),
    ("christopher", "chris", "kit"),
    ("christina", "chris", "tina", "christine", "chrissy"),
    ("daniel", "dan", "danny"),
    ("matthew", "matt", "matty"),
    ("anthony", "tony"),
    ("steven", "steve", "stephen", "stevie"),
    ("edward", "ed", "eddie", "ted", "teddy", "ned"),
    ("elizabeth", "liz", "lizzie", "beth", "betty", "eliza", "libby", "betsy"),
    ("margaret", "peggy", "maggie", "meg", "marge", "margie"),
    ("katherine", "kate", "kathy", "katie", "kat", "catherine", "kathryn", "cathy"),
    ("kathleen", "kathy", "kate"),
    ("jennifer", "jen", "jenny", "jenn"),
    ("patricia", "pat", "patty", "trish", "tricia"),
    ("patrick", "pat", "paddy"),
    ("susan", "sue", "susie", "suzanne"),
    ("deborah", "debbie", "deb", "debra"),
    ("jessica", "jess", "jessie"),
    ("rebecca", "becky", "becca"),
    ("samantha", "sam", "sammy"),
    ("samuel", "sam", "sammy"),
    ("alexander", "alex", "xander"),
    ("alexandra", "alex", "lexi"),
    ("benjamin", "ben", "benny"),
    ("nicholas", "nick", "nicky"),
    ("andrew", "andy", "drew"),
    ("david", "dave", "davey"),
    ("kenneth", "ken", "kenny"),
    ("ronald", "ron", "ronnie"),
    ("donald", "don", "donnie"),
    ("timothy", "tim", "timmy"),
    ("gregory", "greg"),
    ("jeffrey", "jeff", "geoffrey"),
    ("stephanie", "steph", "stef"),
    ("victoria", "vicky", "vicki", "tori"),
    ("barbara", "barb", "barbie"),
    ("cynthia", "cindy"),
    ("pamela", "pam"),
    ("sandra", "sandy"),
    ("kimberly", "kim"),
    ("amanda", "mandy"),
    ("theresa", "terry", "tess", "teresa"),
    ("terrence", "terry", "terence"),
    ("jose", "pepe"),
    ("guadalupe", "lupe"),
    ("francisco", "paco", "pancho"),
    ("joshua", "josh"),
    ("zachary", "zach", "zack"),
    ("nathaniel", "nate", "nathan"),
    ("abigail", "abby", "abbie", "gail"),
    ("albert", "al", "bert"),
    ("allison", "ally", "allie"),
    ("anne", "ann", "annie", "anna", "nancy"),
    ("frederick", "fred", "freddie"),
    ("gerald", "jerry", "gerry"),
    ("harold", "hal", "harry"),
    ("henry", "hank", "harry"),
    ("lawrence", "larry"),
    ("leonard", "len", "lenny", "leo"),
    ("louis", "lou", "louie"),
    ("raymond", "ray"),
    ("walter", "walt", "wally"),
    ("eugene", "gene"),
    ("douglas", "doug"),
    ("philip", "phil", "phillip"),
    ("peter", "pete"),
    ("vincent", "vince", "vinny"),
    ("dorothy", "dot", "dottie"),
    ("judith", "judy"),
    ("virginia", "ginny", "ginger"),
    ("jacqueline", "jackie"),
    ("caroline", "carol", "carrie"),
    ("melissa", "missy", "mel"),
    ("melanie", "mel"),
    ("natalie", "nat"),
    ("frances", "fran", "frannie"),
    ("eleanor", "ellie", "nell", "nora"),
    ("evelyn", "evie"),
    ("gabriel", "gabe"),
    ("gabriela", "gaby"),
    ("isabel", "isabella", "izzy", "bella"),
    ("manuel", "manny"),
    ("ignacio", "nacho"),
    ("enrique", "kike"),
    ("dolores", "lola"),
    ("rosario", "chayo"),
    ("mitchell", "mitch"),
    ("randall", "randy"),
    ("russell", "russ"),
    ("stanley", "stan"),
    ("marvin", "marv"),
    ("sylvia", "sylvie"),
    ("valerie", "val"),
    ("veronica", "vero"),
)


def _build() -> dict[str, str]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for group in _GROUPS:
        root = find(group[0])
        for name in group[1:]:
            other = find(name)
            if other != root:
                # the alphabetically smaller root wins: the result does not depend on group order
                low, high = sorted((root, other))
                parent[high] = low
                root = low
    return {name: find(name) for name in parent}


CANONICAL: dict[str, str] = _build()
"""Lower-case given name → the alphabetically first name of its (merged) group."""


def canonical_given(name: str) -> str:
    """The group key of a normalized given name (`bob` and `robert` → `bob`); unknown names unchanged."""
    return CANONICAL.get(name, name)


def one_edit(a: str, b: str) -> bool:
    """Whether `a` and `b` differ by at most one edit: insert, delete, substitute a letter or
    swap two neighbours (Damerau)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        return a[i + 1:] == b[i + 1:] or (a[i:i + 2] == b[i:i + 2][::-1] and a[i + 2:] == b[i + 2:])
    return (a[i + 1:] == b[i:]) if la > lb else (a[i:] == b[i + 1:])


def _deletions(name: str) -> set[str]:
    return {name[:i] + name[i + 1:] for i in range(len(name))} | {name}


def _by_deletion() -> dict[str, set[str]]:
    index: dict[str, set[str]] = {}
    for name in CANONICAL:
        for variant in _deletions(name):
            index.setdefault(variant, set()).add(name)
    return index


_BY_DELETION = _by_deletion()
_MIN_TYPO_LENGTH = 3


def near_group(name: str) -> str | None:
    """The group key of the one nickname-table group a misspelt given name is one edit from
    (`tmomy` → `thomas`'s key, `jmes` → `james`'s); None for names in the table, names shorter
    than three letters, and names one edit from several groups (`dae`: `dan` or `dave`)."""
    if name in CANONICAL or len(name) < _MIN_TYPO_LENGTH:
        return None
    near = {known for variant in _deletions(name) for known in _BY_DELETION.get(variant, ()) if one_edit(name, known)}
    groups = {CANONICAL[known] for known in near}
    return groups.pop() if len(groups) == 1 else None
