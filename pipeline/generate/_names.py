"""Built-in, fully invented given names and surnames for the synthetic university's people.

Kept apart from `_catalog.py` (the institution's departments, courses, programs and campuses):
people's names are drawn by `_rules/people.py` alone, and are the one part of the reference
data with a privacy promise to keep.

Everything here is invented or generic. Nothing comes from real people: the given names
(mostly-female, mostly-male and any-gender lists) and surnames are common, generic US names
typed in by hand, not drawn from (or profiled from) any real roster, registry or record, and
they are combined at random by the generator.
"""

from __future__ import annotations

__all__ = [
    "FEMALE_FIRST_NAMES",
    "MALE_FIRST_NAMES",
    "NEUTRAL_FIRST_NAMES",
    "FIRST_NAMES",
    "LAST_NAMES",
]

# --------------------------------------------------------------------------
# People names (common, generic; mixed origins). Given names come in three
# lists: mostly used for women, mostly used for men, and used for any gender.
# --------------------------------------------------------------------------

FEMALE_FIRST_NAMES: tuple[str, ...] = tuple("""
Aaliyah Abigail Adriana Aisha Alexis Alice Alicia Allison Alma Alyssa Amanda Amara Amber
Amy Ana Andrea Angela Anika Anna Ashley Audrey Aurora Ava Ayesha Beatriz Bianca Brianna
Brittany Camila Carmen Caroline Cassandra Catherine Chloe Christina Claire Crystal
Daniela Deja Destiny Diana Ebony Elena Elizabeth Ella Emily Emma Erin Esther Eva Fatima
Gabriela Gloria Grace Guadalupe Hailey Hannah Harper Hope Imani Ingrid Isabel Isabella
Jacqueline Jada Jade Janelle Jasmine Jenna Jennifer Jessica Joanna Julia Kaitlyn Karen
Kayla Keisha Kendra Kiara Kimberly Laila Latoya Lauren Layla Leah Leila Lillian Lily
Lina Lucia Lucy Madison Maria Mariana Marisol Maya Megan Mei Melissa Mia Michelle Molly
Monica Nadia Nadine Naomi Natalie Nia Nicole Nina Noelle Nora Olivia Paige Paola Priya
Rachel Rebecca Renee Rosa Ruby Sabrina Salma Samantha Sara Sarah Savannah Sierra Simone
Sofia Sophia Stella Stephanie Sydney Tamika Tanisha Teresa Tiffany Valentina Valeria
Valerie Vanessa Victoria Vivian Wendy Ximena Yara Yasmin Zainab Zoe
""".split())

MALE_FIRST_NAMES: tuple[str, ...] = tuple("""
Aaron Adam Adrian Aiden Alan Alberto Alejandro Alexander Amir Andre Andres Andrew Angel
Anthony Antonio Arjun Austin Benjamin Brandon Brian Bryan Caleb Carlos Carter Cesar
Christian Christopher Connor Daniel Dante Darius Darnell David Derek Devin Diego Dominic
Dylan Eduardo Eli Elijah Emmanuel Enrique Eric Ethan Evan Felipe Fernando Gabriel Gavin
Grant Gregory Hassan Hector Henry Hiroshi Hunter Ian Ibrahim Isaac Isaiah Ivan Jack
Jacob Jamal James Jared Jason Jasper Javier Jayden Jeremy Jesus Joel Jonathan Jorge Jose
Joseph Joshua Juan Julian Justin Kenji Kevin Khalil Kofi Kyle Lamar Leonardo Liam Logan
Lorenzo Lucas Luis Luke Malik Manuel Marco Marcus Mark Marquis Martin Mason Mateo
Matthew Michael Miguel Miles Mohammed Nathan Nathaniel Nicholas Noah Omar Oscar Owen
Patrick Paul Pedro Peter Rafael Rahul Raj Ramon Ricardo Robert Roberto Rohan Ryan Samuel
Santiago Sean Sebastian Sergio Steven Tariq Terrence Thomas Timothy Trevor Tristan Tyler
Tyrone Victor Vikram Wei William Xavier Yusuf Zachary
""".split())

NEUTRAL_FIRST_NAMES: tuple[str, ...] = tuple("""
Alex Jordan Taylor Casey Riley Morgan Avery Quinn Jamie Cameron Peyton Skyler Dakota
Reese Rowan Emerson Finley Hayden Parker Sage Charlie Drew Kendall Jessie Robin Elliot
Frankie Blair Devon Kai
""".split())

# All given names (female + male + neutral), kept for existing callers.
FIRST_NAMES: tuple[str, ...] = FEMALE_FIRST_NAMES + MALE_FIRST_NAMES + NEUTRAL_FIRST_NAMES

LAST_NAMES: tuple[str, ...] = tuple("""
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez
Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin
Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson
Walker Young Allen King Wright Scott Torres Nguyen Hill Flores
Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts
Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes
Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper
Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson
Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes
Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez
Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes
Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham
Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson
Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens
Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen
Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter
Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks
Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox
Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens
Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins
Arnold Pierce Vazquez Hansen Peters Santos Hart Bradley Knight Elliott
Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews Alvarado Ray
Delgado Berry Perkins Hoffman Johnston Matthews Pena Richards Contreras Willis
Carpenter Lawrence Sandoval Guerrero George Chapman Rios Estrada Ortega Watkins
Greene Nunez Wheeler Valdez Harper Burke Larson Santiago Maldonado Morrison
Franklin Carlson Austin Dominguez Carr Lawson Jacobs Obrien Lynch Singh
Vega Bishop Montgomery Oliver Jensen Harvey Williamson Gilbert Dean Sims
Espinoza Howell Li Wong Reid Hanson Le McCoy Garrett Burton
Fuller Wang Weber Welch Rojas Lucero Fields Park Yang Little
Banks Padilla Day Walsh Bowman Schultz Luna Fowler Mejia Davidson
""".split())


# --------------------------------------------------------------------------
# Self-check (cheap; runs at import)
# --------------------------------------------------------------------------


def _check() -> None:
    # FIRST_NAMES being duplicate-free means no name repeats across the three lists.
    sizes = {"FEMALE_FIRST_NAMES": 150, "MALE_FIRST_NAMES": 150, "NEUTRAL_FIRST_NAMES": 30}
    for label, count in (sizes | {"FIRST_NAMES": 330, "LAST_NAMES": 300}).items():
        names = globals()[label]
        assert len(names) == count, (label, len(names))
        assert len(set(names)) == len(names), f"duplicate in {label}"
        assert all(n.isascii() and n.isalpha() for n in names), label


_check()
