"""The rewrite instructions of the prompt-recovery sample.

    PROMPTSOURCE_PROMPTS  # (instruction, template file in promptsource==0.2.3, phrase it adapts)
    WRITTEN_PROMPTS       # instructions written for this sample in the style of Kaggle's examples

The promptsource ones adapt human-written templates from sentence- to passage-level ("sentence"
becomes "text"); `build` checks that each cited phrase is really in the cited file.
"""

PROMPTSOURCE = ("promptsource", "0.2.3")

PROMPTSOURCE_PROMPTS = (
    ("Please summarize the following paragraph.", "scitldr/Abstract/templates.yaml", "Please summarize the above paragraph"),
    ("Compress this text to one or two sentences.", "scitldr/Abstract/templates.yaml", "Compress the abstract to one or two sentences"),
    ("Paraphrase this text.", "paws/labeled_final/templates.yaml", "Paraphrase the sentence"),
    ("Rewrite the following text so that it flows better.", "discofuse/discofuse-wikipedia/templates.yaml",
     "Rewrite the following two sentences so that they flow better"),
    ("Simplify this text.", "asset/simplification/templates.yaml", "How would I simplify this?"),
    ("Make the below text more verbose.", "asset/simplification/templates.yaml", "Make the below sentence more verbose"),
    ("Rewrite the following text so that it conveys the information better.", "asset/ratings/templates.yaml",
     "Rewrite the following sentence so that it conveys the information"),
    ("Rewrite the following text so that it is more fluent.", "asset/ratings/templates.yaml", "so that it is more fluent"),
    ("Rewrite the following text so that it is simpler.", "asset/ratings/templates.yaml", "so that it is simpler"),
    ("Generate a summary for the text.", "scitldr/Abstract/templates.yaml", "Generate a summary for the text"),
)

WRITTEN_PROMPTS = (
    "Rewrite this text as a sea shanty.",
    "Rewrite this text as a rhyming poem.",
    "Rewrite this text in the style of a pirate.",
    "Rewrite this text as a short news report.",
    "Rewrite this text as a formal business email.",
    "Rewrite this text as a text message to a friend.",
    "Rewrite this text as a children's bedtime story.",
    "Rewrite this text in the style of Shakespeare.",
    "Rewrite this text as a recipe.",
    "Rewrite this text as a movie trailer voiceover.",
    "Rewrite this text as a sports commentary.",
    "Rewrite this text as a limerick.",
    "Rewrite this text as a tweet.",
    "Rewrite this text as a job advertisement.",
    "Rewrite this text as a scientific abstract.",
    "Rewrite this text as a diary entry.",
    "Rewrite this text as a dialogue between two friends.",
    "Rewrite this text as a product review.",
    "Rewrite this text as a weather forecast.",
    "Rewrite this text as a fairy tale.",
    "Rewrite this text in the voice of a detective.",
    "Rewrite this text as a motivational speech.",
    "Rewrite this text as a song chorus.",
    "Rewrite this text for a five-year-old.",
    "Rewrite this text in a sarcastic tone.",
    "Rewrite this text in an angry tone.",
    "Rewrite this text in a cheerful, excited tone.",
    "Rewrite this text as a legal contract clause.",
    "Rewrite this text as a travel brochure.",
    "Rewrite this text as a horoscope.",
    "Rewrite this text as an advertisement.",
    "Rewrite this text as a letter to the editor.",
    "Make this text more formal.",
    "Make this text more casual.",
    "Rewrite this text in the second person.",
    "Rewrite this text as a list of bullet points.",
)

REWRITE_PROMPTS = tuple(p for p, _, _ in PROMPTSOURCE_PROMPTS) + WRITTEN_PROMPTS
