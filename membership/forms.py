"""Admin forms: plans priced in pounds, complimentary access granted and revoked, and the
article or title whose access a member of staff wants explained."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.admin.widgets import AdminDateWidget, FilteredSelectMultiple
from django.utils import timezone

from membership.models import Article, Plan, SeatKind, Title


class PriceField(forms.DecimalField):
    """A price typed in pounds (or dollars), stored in pence (or cents)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=9, decimal_places=2, min_value=Decimal(0), **kwargs)

    def prepare_value(self, value: Any) -> Any:
        return Decimal(value).scaleb(-2) if isinstance(value, int) else value

    def clean(self, value: Any) -> int:
        return int(super().clean(value).scaleb(2))

    def has_changed(self, initial: Any, data: Any) -> bool:
        return super().has_changed(self.prepare_value(initial), data)


class PlanAdminForm(forms.ModelForm):
    monthly_amount = PriceField(label="Monthly price", help_text="For example 9.99.")
    yearly_amount = PriceField(label="Yearly price", help_text="For example 99.00.")

    class Meta:
        model = Plan
        fields = (
            "name",
            "slug",
            "description",
            "monthly_amount",
            "yearly_amount",
            "currency",
            "trial_days",
            "all_titles",
            "titles",
            "is_active",
            "display_order",
            "seat_kind",
            "min_seats",
            "max_seats",
        )

    SEAT_FIELDS = {"seat_kind": SeatKind.SINGLE, "min_seats": 1, "max_seats": 1}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.SEAT_FIELDS:  # a plan for one reader needs none of them
            self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for name, default in self.SEAT_FIELDS.items():
            if data.get(name) in (None, ""):
                data[name] = default
        chosen = data.get("titles")
        if data.get("all_titles") and chosen:
            self.add_error("titles", "Untick 'covers every premium title' to choose titles.")
        elif not data.get("all_titles") and not chosen:
            self.add_error("titles", "Choose the titles this plan covers, or cover them all.")
        return data


class CompGrantForm(forms.Form):
    """What an editor fills in to give a member complimentary access."""

    EVERY_TITLE = "all"
    CHOSEN_TITLES = "chosen"

    scope = forms.ChoiceField(
        label="Access to",
        choices=[(EVERY_TITLE, "Every title"), (CHOSEN_TITLES, "Only the titles chosen below")],
        initial=EVERY_TITLE,
        widget=forms.RadioSelect,
    )
    titles = forms.ModelMultipleChoiceField(
        queryset=Title.objects.filter(is_premium=True),
        required=False,
        widget=FilteredSelectMultiple("titles", is_stacked=False),
    )
    ends_on = forms.DateField(
        label="Until",
        widget=AdminDateWidget,
        help_text="The last day of access: it ends at midnight at the end of this day.",
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why this member gets access (kept in the entitlement's history).",
    )

    def clean_ends_on(self) -> Any:
        ends_on = self.cleaned_data["ends_on"]
        if ends_on < timezone.localdate():
            raise forms.ValidationError("This date is in the past: choose today or a later day.")
        return ends_on

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        chosen = data.get("titles")
        if data.get("scope") == self.CHOSEN_TITLES and not chosen:
            self.add_error("titles", "Choose at least one title, or give access to every title.")
        elif data.get("scope") == self.EVERY_TITLE and chosen:
            self.add_error("titles", "Clear these titles, or choose 'Only the titles chosen'.")
        return data

    def ends_at(self) -> datetime:
        """Return the moment access ends: the midnight after the chosen day."""
        day = self.cleaned_data["ends_on"] + timedelta(days=1)
        return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())

    def chosen_titles(self) -> list[Title] | None:
        """Return the chosen titles, or None for every title."""
        if self.cleaned_data["scope"] == self.EVERY_TITLE:
            return None
        return list(self.cleaned_data["titles"])


class EntitlementRevokeForm(forms.Form):
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional: why access ends (kept in the entitlement's history).",
    )


class AccessExplainForm(forms.Form):
    """The article, or the title, whose access to explain for a member."""

    article = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=2**53,
        label="Article number",
        help_text="The number in the article's address: /articles/<number>/.",
    )
    title = forms.ModelChoiceField(
        queryset=Title.objects.order_by("name"),
        required=False,
        empty_label="(or choose a title)",
        help_text="Any premium article of this title.",
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        article_id, title = data.get("article"), data.get("title")
        if self.errors:
            return data
        if (article_id is None) == (title is None):
            raise forms.ValidationError("Give an article number or choose a title, not both.")
        if article_id is not None:
            article = Article.objects.select_related("title").filter(pk=article_id).first()
            if article is None:
                self.add_error("article", "There is no article with this number.")
            data["article"] = article
        return data
